# Each audit's shares on the tuned (effusion) prompt against a target in the CLI's form, per
# attribute the target names: the worst |share − target| (what issue #24's goals read), with
# that group's 95 % interval.
# Usage: python3 deviations.py "sex=Female:0.5,Male:0.5;race=…" NAME.audit.json …
import json, sys

target = {}
for part in sys.argv[1].split(";"):
    name, groups = part.split("=", 1)
    target[name] = {g.split(":")[0]: float(g.split(":")[1]) for g in groups.split(",")}
for f in sys.argv[2:]:
    row = json.load(open(f))["representation"][0]
    read = {a["attribute"]: a for a in row["attributes"] + row.get("intersections", [])}
    parts = []
    for name, wanted in target.items():
        a = read[name]
        shares = dict(zip(a["groups"], a["proportions"]))
        g = max(wanted, key=lambda g: abs(shares[g]["estimate"] - wanted[g]))
        worst = shares[g]
        listed = "/".join("%.1f" % (100 * shares[h]["estimate"]) for h in wanted)
        parts.append(
            f"{name} {listed} % (worst {abs(worst['estimate'] - wanted[g]):.3f}: {g} "
            f"{100 * worst['estimate']:.1f} % [{100 * worst['lower']:.1f}, {100 * worst['upper']:.1f}])"
        )
    print(f"{f}: " + "; ".join(parts))
