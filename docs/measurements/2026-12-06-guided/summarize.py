# Prints each audit JSON given: every prompt's shares and worst-group gap per attribute and intersection, and the FIDs.
import json,sys
for f in sys.argv[1:]:
    d=json.load(open(f))
    print("==",f)
    for r in d['representation']:
        parts=[]
        for a in r['attributes'] + r.get('intersections', []):
            ps=[p['estimate'] for p in a['proportions']]
            gap=max(abs(p-t) for p,t in zip(ps,a['target']))
            parts.append(a['attribute']+": "+"/".join(f"{g[:5]} {100*p:.1f}" for g,p in zip(a['groups'],ps))+f" gap {gap:.3f}")
        print("  ",r['prompt'][-22:],"|"," | ".join(parts))
    q=d.get('quality')
    if q:
        s=f"   FID {q['overall']['value']:.0f}"
        for a in q['byAttribute']:
            s+=f"; {a['attribute']} "+"/".join(f"{g[:5]} {p['value']:.0f}" for g,p in zip(a['groups'],a['perGroup']))
        print(s)
