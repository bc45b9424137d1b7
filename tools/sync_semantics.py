"""Run the same sync scenarios with s3flow, aws s3 and s5cmd against one moto server:
the README's sync-semantics table comes from its output.

    .venv/bin/python -m tools.sync_semantics /tmp/sem s3flow aws s5cmd

``aws`` and ``s5cmd`` are taken from $PATH (or $AWS / $S5CMD).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from s3flow.testing.servers import run_moto, s3_request

S3FLOW = shutil.which("s3flow", path=str(Path(sys.executable).parent)) or "s3flow"
S5 = os.environ.get("S5CMD", "s5cmd")
AWS = os.environ.get("AWS", "aws")
base = Path(sys.argv[1])


def tool_cmd(tool, url, *args):
    if tool == "s3flow":
        return [S3FLOW, "--endpoint-url", url, *args]
    if tool == "aws":
        return [AWS, "--endpoint-url", url, "s3", *args]
    return [S5, "--endpoint-url", url, *args]


def keys(server, bucket, prefix):
    r = s3_request(server, "GET", f"/{bucket}", query={"list-type": "2", "prefix": prefix})
    return sorted(re.findall(r"<Key>([^<]*)</Key>", r.body.decode()))


with run_moto() as server:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": server.region,
        "AWS_REGION": server.region,
    }

    def run(tool, *args, cwd, timeout=60):
        cmd = tool_cmd(tool, server.endpoint_url, *args)
        try:
            p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=timeout)
            return (
                p.returncode,
                p.stdout.decode(errors="replace"),
                p.stderr.decode(errors="replace"),
            )
        except subprocess.TimeoutExpired:
            return "timeout", "", ""

    def sync_words(tool):
        return ["sync"]

    for tool in sys.argv[2:]:
        b = f"sem-{tool}-{uuid.uuid4().hex[:6]}"
        assert s3_request(server, "PUT", f"/{b}").status == 200
        work = base / tool
        work.mkdir(parents=True)
        out = {}
        # 1/2: download, same size; local newer / older
        for name, delta in (("newer", 3600), ("older", -3600)):
            s3_request(server, "PUT", f"/{b}/dl-{name}/k", body=b"AAAA")
            d = work / f"dl-{name}"
            d.mkdir()
            (d / "k").write_bytes(b"BBBB")
            t = time.time() + delta
            os.utime(d / "k", (t, t))
            src = f"s3://{b}/dl-{name}/" + ("*" if tool == "s5cmd" else "")
            code, o, e = run(tool, "sync", src, str(d) + "/", cwd=work)
            out[f"download same size, local {name}"] = (
                code,
                (d / "k").read_bytes().decode(),
                e.strip()[:200],
            )
            if tool == "aws":
                (d / "k").write_bytes(b"BBBB")
                os.utime(d / "k", (t, t))
                code, o, e = run(
                    tool,
                    "sync",
                    "--exact-timestamps",
                    f"s3://{b}/dl-{name}/",
                    str(d) + "/",
                    cwd=work,
                )
                out[f"download same size, local {name}, --exact-timestamps"] = (
                    code,
                    (d / "k").read_bytes().decode(),
                )
        # 3: --include alone
        t3 = work / "inc"
        t3.mkdir()
        (t3 / "a.txt").write_bytes(b"a")
        (t3 / "b.log").write_bytes(b"b")
        code, o, e = run(
            tool, "sync", "--include", "*.txt", str(t3) + "/", f"s3://{b}/inc/", cwd=work
        )
        out["--include '*.txt' alone"] = (code, keys(server, b, "inc/"), e.strip()[:200])
        # 4: symlinked directory + symlinked file
        outside = work / "outside"
        outside.mkdir()
        (outside / "o.txt").write_bytes(b"o")
        t4 = work / "links"
        t4.mkdir()
        (t4 / "a.txt").write_bytes(b"a")
        os.symlink(outside, t4 / "linked")
        os.symlink("a.txt", t4 / "alias.txt")
        code, o, e = run(tool, "sync", str(t4) + "/", f"s3://{b}/links/", cwd=work)
        out["symlinked dir/file"] = (code, keys(server, b, "links/"), e.strip()[:200])
        nb = f"sem-{tool}-nf-{uuid.uuid4().hex[:6]}"
        s3_request(server, "PUT", f"/{nb}")
        nf = ["sync", "--no-follow-symlinks"]
        code, o, e = run(tool, *nf, str(t4) + "/", f"s3://{nb}/links/", cwd=work)
        out["symlinked dir/file, no-follow"] = (code, keys(server, nb, "links/"), e.strip()[:200])
        # 5: loop
        t5 = work / "loop"
        (t5 / "d").mkdir(parents=True)
        (t5 / "d" / "x.txt").write_bytes(b"x")
        os.symlink("..", t5 / "d" / "up")
        code, o, e = run(tool, "sync", str(t5) + "/", f"s3://{b}/loop/", cwd=work, timeout=120)
        ks = keys(server, b, "loop/")
        out["loop d/up -> .."] = (code, len(ks), ks[:4], e.strip()[:300])
        # 6: FIFO + dangling link, --delete, keys exist at the destination
        t6 = work / "odd"
        t6.mkdir()
        (t6 / "a.txt").write_bytes(b"a")
        os.mkfifo(t6 / "pipe")
        os.symlink("nowhere", t6 / "dangling")
        for k in ("pipe", "dangling", "extra"):
            s3_request(server, "PUT", f"/{b}/odd/{k}", body=b"old")
        code, o, e = run(
            tool, "sync", "--delete", str(t6) + "/", f"s3://{b}/odd/", cwd=work, timeout=30
        )
        out["fifo + dangling, --delete"] = (code, keys(server, b, "odd/"), e.strip()[:400])
        print(tool, json.dumps(out, indent=1))
