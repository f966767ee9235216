# Writes logs/summary.txt's entry for each run of this part: its command, wall time (fine-tuning),
# deviations.py against its target, ../2026-12-06-distillation/summarize.py of its audit and
# prompt_fid.js's line. Usage: python3 collect.py RUNS_FOLDER JOBS_FILE… (job lines
# "NAME|SEED|TARGET|STEPS|FLAGS" for Method 1, "NAME|SEED|TARGET" for Method 2).
import os, re, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
runs = sys.argv[1]
M1 = ("--trainable unet-lora --lr 3e-3 --fairness-weight 0 --semantic-weight 0 --distill-weight 1 "
      "--prior-weight 1 --ema 0.99 --prior-captions training")
M2 = "--steps 300 --batch-size 16 --lr 3e-3 --consistency-weight 0.25 --ema 0.98"
for jobs in sys.argv[2:]:
    for line in open(jobs):
        parts = line.rstrip("\n").split("|")
        name, seed, target = parts[:3]
        if len(parts) > 3:
            steps, flags = parts[3], parts[4]
            command = (f"fairdiff finetune --method align --target {target} --steps {steps} --seed {seed} "
                       f"{M1} {flags} --out {name}.fdckpt")
            check = target
        else:
            command = f"fairdiff finetune --method subgroup --target {target} --seed {seed} {M2} --out {name}.fdckpt"
            check = target
        if target.startswith("sex×race"):
            # Also the marginals the intersection implies.
            check += ";sex=Female:0.5,Male:0.5;race=Asian:0.3334,Black:0.3333,White:0.3333"
        print(f"## {name}\n{command}")
        log = open(os.path.join(runs, name + ".log")).read()
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", log)
        print(f"wall {wall.group(1) if wall else '?'}")
        audit = os.path.join(runs, name + ".audit.json")
        for script, args in (("../2026-12-06-guided/deviations.py", [check, audit]),
                             ("../2026-12-06-distillation/summarize.py", [audit])):
            out = subprocess.run(["python3", os.path.join(here, script), *args], capture_output=True, text=True).stdout
            print("\n".join(l.replace(runs + "/", "") for l in out.splitlines() if not l.startswith("==")))
        pfid = os.path.join(runs, name + ".pfid")
        if os.path.exists(pfid):
            print(open(pfid).read().strip().splitlines()[-1])
