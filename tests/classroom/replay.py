#!/usr/bin/env python3
"""replay.py - run a generated GitHub Classroom workflow here, as Actions would.

    tests/classroom/replay.py WORKFLOW.yml KIT STUDENT_REPO WORKDIR LAB TOTAL

Parses the workflow (PyYAML when there is one, else a small parser for the
subset it uses), checks its shape (one lab, step ids as the reporter reads
them, points that add up to TOTAL, a timeout per step, the grader taken from
the kit and only labs/LAB/<file> from the student), then replays it in
WORKDIR: the two checkouts become a copy of STUDENT_REPO (student/) and a
link to KIT (kit/, the instructors' copy at its pinned commit), 'run' steps
run under bash -e, each autograding-command-grader step runs its command as
that action does (a minimal environment, its timeout, pass on exit 0, the
result as base64 JSON in the step's output), and the reporter step gets the
env its 'env:' block names, then tests/classroom/reporter.js replays the
reporter. 'sudo' is a pass-through (the tests run as root).

Prints one line per step and the reporter's output; exit 0 when the replay
itself worked (whatever the score), 1 with a message when the workflow is wrong.

See also: tools/classroom/workflow, tests/classroom/reporter.js, tests/check_platforms.c.
"""
import base64
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time


def die(msg):
    print("replay: " + msg)
    sys.exit(1)


def parse_minimal(text):
    """Block mappings, sequences of mappings, '|' scalars, [a, b] lists: what workflow writes."""
    lines = [l for l in text.split("\n") if l.strip() and not l.lstrip().startswith("#")]
    pos = 0

    def scalar(v):
        v = v.strip()
        if v.startswith("[") and v.endswith("]"):
            return [x.strip() for x in v[1:-1].split(",") if x.strip()]
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
            return v[1:-1]
        if re.fullmatch(r"-?\d+", v):
            return int(v)
        return {"true": True, "false": False}.get(v, v)

    def block(indent):
        nonlocal pos
        if lines[pos].startswith(" " * indent + "- "):
            seq = []
            while pos < len(lines) and lines[pos].startswith(" " * indent + "- "):
                lines[pos] = " " * (indent + 2) + lines[pos][indent + 2:]
                seq.append(block(indent + 2))
            return seq
        mapping = {}
        while pos < len(lines):
            line = lines[pos]
            ind = len(line) - len(line.lstrip(" "))
            if ind < indent:
                break
            if ind != indent:
                die("bad indentation: %r" % line)
            m = re.match(r"\s*([^:]+):(?:\s+(.*))?$", line)
            if not m:
                die("not a 'key: value' line: %r" % line)
            key, value = m.group(1).strip(), m.group(2)
            pos += 1
            if value == "|":
                body = []
                while pos < len(lines) and len(lines[pos]) - len(lines[pos].lstrip(" ")) > indent:
                    body.append(lines[pos])
                    pos += 1
                cut = min(len(b) - len(b.lstrip(" ")) for b in body)
                mapping[key] = "\n".join(b[cut:] for b in body) + "\n"
            elif value is None or value == "":
                nxt = lines[pos] if pos < len(lines) else ""
                child = len(nxt) - len(nxt.lstrip(" "))
                mapping[key] = block(child) if child > indent or nxt.startswith(" " * indent + "- ") else None
            else:
                mapping[key] = scalar(value)
        return mapping

    return block(0)


def load(path):
    text = open(path).read()
    try:
        import yaml
        doc = yaml.safe_load(text)
        if True in doc and "on" not in doc:  # YAML 1.1 reads 'on' as true
            doc["on"] = doc.pop(True)
        return doc, "PyYAML"
    except ImportError:
        return parse_minimal(text), "a minimal YAML reader"


def main():
    if len(sys.argv) != 7:
        die("usage: replay.py WORKFLOW.yml KIT STUDENT_REPO WORKDIR LAB TOTAL")
    wf, kit, student, work, lab, total = sys.argv[1:]
    total = int(total)
    doc, how = load(wf)
    print("parsed with %s" % how)
    jobs = doc.get("jobs") or die("no jobs")
    if len(jobs) != 1:
        die("one job expected, got %d" % len(jobs))
    steps = list(jobs.values())[0]["steps"]
    graders = [s for s in steps if str(s.get("uses", "")).startswith("classroom-resources/autograding-command-grader")]
    reporter = [s for s in steps if str(s.get("uses", "")).startswith("classroom-resources/autograding-grading-reporter")]
    if not graders or len(reporter) != 1 or steps[-1] is not reporter[0]:
        die("grading steps, then one reporter step last, expected")
    ids = [s.get("id") for s in graders]
    if len(set(ids)) != len(ids) or not all(i and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", i) for i in ids):
        die("step ids missing, repeated or not valid GitHub ids: %r" % ids)
    points = sum(int(s["with"]["max-score"]) for s in graders)
    if points != total:
        die("the steps' points add up to %d, not the lab's %d" % (points, total))
    for s in graders:
        w = s["with"]
        if not (0 < float(w.get("timeout", 0)) <= 360):
            die("%s: no timeout (minutes)" % s["id"])
        cmd = w["command"]
        m = re.fullmatch(r"sudo kit/grader/grade (\S+) submission/(\S+) --only (\S+) --no-color", cmd)
        if not m or m.group(1) != lab or "," in m.group(3):
            die("%s: the command must run the kit's grader on submission/FILE, one check: %r" % (s["id"], cmd))
    runners = [r.strip() for r in str(reporter[0]["with"]["runners"]).split(",")]
    if runners != ids:
        die("the reporter's runners %r are not the steps %r" % (runners, ids))
    env_block = reporter[0].get("env") or {}
    for i in ids:
        want = i.upper() + "_RESULTS"
        if env_block.get(want) != "${{steps.%s.outputs.result}}" % i:
            die("the reporter reads %s, which the env block does not set to step %s's result" % (want, i))

    # The workspace: the student's repository and the kit (the pinned checkout).
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    shutil.copytree(student, os.path.join(work, "student"), symlinks=True)
    os.symlink(os.path.abspath(kit), os.path.join(work, "kit"))
    fake = os.path.join(work, ".bin")
    os.makedirs(fake)
    with open(os.path.join(fake, "sudo"), "w") as f:
        f.write('#!/bin/sh\nexec "$@"\n')
    os.chmod(os.path.join(fake, "sudo"), 0o755)
    path = fake + ":" + os.environ.get("PATH", "/usr/bin:/bin")

    for s in steps:
        if str(s.get("uses", "")).startswith("actions/checkout"):
            w = s.get("with") or {}
            if w.get("path") not in ("student", "kit"):
                die("a checkout into %r: the student's goes to student/, the kit's to kit/" % w.get("path"))
            if w.get("path") == "kit" and not (w.get("repository") and w.get("ref")):
                die("the kit's checkout must name its repository and a pinned ref")
            print("step %-40s (checkout: %s)" % (s["name"], w.get("path")))
        elif "run" in s:
            t0 = time.time()
            p = subprocess.run(["bash", "-e", "-c", s["run"]], cwd=work, env=dict(os.environ, PATH=path),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            print("step %-40s exit %d (%.1fs)" % (s["name"], p.returncode, time.time() - t0))
            if p.returncode != 0:
                die("run step failed:\n" + p.stdout)

    # The command grader (classroom-resources/autograding-command-grader, src/main.js): its own
    # environment, the timeout in minutes, 'pass' on exit 0; its result, base64 JSON, is the output.
    def grade_step(s):
        w = s["with"]
        env = {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "FORCE_COLOR": "true"}
        t0 = time.time()
        try:
            p = subprocess.run(w["command"], shell=True, cwd=work, env=env, timeout=float(w["timeout"]) * 60,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            status = "pass" if p.returncode == 0 else "fail"
            out = p.stdout
        except subprocess.TimeoutExpired:
            status, out = "error", "Command timed out"
        score = int(w["max-score"]) if status == "pass" else 0
        result = {"version": 1, "status": status, "max_score": int(w["max-score"]),
                  "tests": [{"name": w["test-name"], "status": status, "score": score, "message": "",
                             "test_code": w["command"], "filename": "", "line_no": 0,
                             "duration": int((time.time() - t0) * 1000)}]}
        return s["id"], status, score, out, base64.b64encode(json.dumps(result).encode()).decode()

    outputs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=int(os.environ.get("REPLAY_JOBS", "4"))) as pool:
        for sid, status, score, out, b64 in pool.map(grade_step, graders):
            outputs[sid] = b64
            print("step %-40s %s, %d points" % (sid, status, score))
            if os.environ.get("REPLAY_VERBOSE"):
                print(out)

    env = dict(os.environ, INPUT_RUNNERS=str(reporter[0]["with"]["runners"]))
    for name, value in env_block.items():
        m = re.fullmatch(r"\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.result\s*\}\}", value)
        env[name] = outputs.get(m.group(1), "") if m else value
    p = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "reporter.js")], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(p.stdout, end="")
    print("reporter exit %d" % p.returncode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
