"""The launchers' shard counts agree within each file: the Kubernetes Jobs'
completions, parallelism and every SHARDS value; the Actions matrix and its
SHARDS. A mismatch would run some shards twice or never."""
import sys

import yaml

problems = []

k8s = list(yaml.safe_load_all(open(sys.argv[1])))
counts = {}
for doc in k8s:
    if doc.get("kind") != "Job":
        continue
    name = doc["metadata"]["name"]
    spec = doc["spec"]
    for key in ("completions", "parallelism"):
        if key in spec and name == "fdsim-shards":
            counts[f"{name}.{key}"] = int(spec[key])
    pod = spec["template"]["spec"]
    for c in pod.get("initContainers", []) + pod["containers"]:
        for e in c.get("env", []):
            if e["name"] == "SHARDS":
                counts[f"{name}/{c['name']}.SHARDS"] = int(e["value"])
if len(set(counts.values())) != 1 or len(counts) < 5:
    problems.append(f"{sys.argv[1]}: shard counts disagree: {counts}")

wf = yaml.safe_load(open(sys.argv[2]))
shards = wf["jobs"]["shard"]["strategy"]["matrix"]["shard"]
n = int(wf["env"]["SHARDS"])
if shards != list(range(1, n + 1)):
    problems.append(f"{sys.argv[2]}: matrix shards {shards} are not 1..SHARDS={n}")

for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
