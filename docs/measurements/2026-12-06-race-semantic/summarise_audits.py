import json,sys
for f in sys.argv[1:]:
    d=json.load(open(f))
    print("==",f)
    for r in d['representation']:
        parts=[]
        for a in r['attributes']:
            sh=[p['estimate'] for p in a['proportions']]
            gap=max(abs(s-t) for s,t in zip(sh,a['target']))
            parts.append(f"{a['attribute']}: "+"/".join(f"{g[:5]} {s*100:.1f}" for g,s in zip(a['groups'],sh))+f" gap {gap:.3f}")
        print("  ",r['prompt'][-22:],"|"," | ".join(parts))
    q=d.get('quality')
    if q:
        s=f"   FID {q['overall']['value']:.0f}"
        for b in q.get('byAttribute',[]):
            s+=f"; {b['attribute']} "+"/".join(f"{g[:5]} {v['value']:.0f}" for g,v in zip(b['groups'],b['perGroup']))
            if 'withinGroup' in b: s+=f" wg {b['withinGroup']}"
        print(s)
        print("   keys", [k for k in q.keys()], [k for k in q['byAttribute'][0].keys()])
