#!/usr/bin/env python3
"""The mock IdP's benchmark (scripts/bench runs it; not a test).

Every server runs pinned to core 0 with one runtime thread, every load generator (wrk,
or `bench logins`) pinned to core 1, so what is measured is one core's worth of server.
Rounds are interleaved (A B C A B C ...) and medians are reported. With --peers, the mock
IdPs people use (oauth2-mock-server and oidc-provider, pinned in scripts/bench-peers/)
run the same loads, and a bare axum server answering the same bytes gives the practical
limit of this machine and load generator (for tokens and logins it signs the same tokens
with the same key, checking and remembering nothing). Ours and the bare server are also
run side by side, both on the server core at once with a load each, and compared per
CPU-second: a ratio free of this VM's drift, which moves rounds run one after the other
by 20% and more.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")
PEERS = os.path.join(ROOT, "target", "bench-peers")
SERVER_CORE, LOAD_CORE = "0", "1"
TOKEN_FORM = (
    "grant_type=client_credentials&scope=harness%3Aread&client_id=0oa1harnessservice0"
    "&client_secret=harness-service-secret-00000000000000000"
)
AUTHORIZE_QUERY = (
    "client_id=0oa1harnessweb00000&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback"
    "&response_type=code&scope=openid&state=bench-state-0123456789"
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def get(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except Exception:
        return None


class Server:
    """A server under test, pinned to the server core; started, timed, stopped."""

    def __init__(self, name, argv, discovery, jwks, env=None, cwd=None):
        self.name, self.argv, self.discovery_path, self.jwks_path = name, argv, discovery, jwks
        self.env, self.cwd, self.proc, self.port = env, cwd, None, None

    def start(self):
        self.port = free_port()
        argv = ["taskset", "-c", SERVER_CORE] + [a.replace("{port}", str(self.port)) for a in self.argv]
        env = dict(os.environ, TOKIO_WORKER_THREADS="1", PORT=str(self.port), UV_THREADPOOL_SIZE="1")
        env.update(self.env or {})
        started = time.monotonic()
        self.proc = subprocess.Popen(argv, cwd=self.cwd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = started + 30
        while time.monotonic() < deadline:
            if get(self.url(self.discovery_path), timeout=0.5) == 200:
                return (time.monotonic() - started) * 1000
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited before answering")
            time.sleep(0.001)
        raise SystemExit(f"{self.name} did not answer within 30 s")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def rss(self):
        return rss_mib(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None


def wrk_argv(url, seconds, script=None, connections=16):
    argv = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    return argv + (["-s", script] if script else []) + [url]


def wrk(url, seconds, script=None, connections=16):
    out = subprocess.run(wrk_argv(url, seconds, script, connections), capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    return wrk_figures(url, out)


def wrk_figures(url, out):
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not m:
        raise SystemExit(f"wrk gave no figure for {url}:\n{out}")
    return float(m.group(1)), int(total.group(1)) if total else 0, int(non2xx.group(1)) if non2xx else 0


def lua(tmp, name, body):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(body)
    return path


def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def fmt(x, unit=""):
    if x != x:
        return "-"
    if x >= 10000:
        return f"{x / 1000:.1f}k{unit}"
    if x >= 100:
        return f"{x:.0f}{unit}"
    return f"{x:.1f}{unit}"


def openssl_sign():
    out = subprocess.run(["taskset", "-c", SERVER_CORE, "openssl", "speed", "-seconds", "3", "rsa2048"],
                         capture_output=True, text=True, timeout=120).stdout
    m = re.search(r"rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)", out)
    return float(m.group(1)) if m else float("nan")


def catalog_seconds(runs, pin=None):
    """Wall time of README's main command without its own build: the whole catalog against
    fixtures/rps/sample-rp.toml (its `build` a no-op here, the RP restarted for every
    scenario that runs alone), default jobs and formats; with `pin`, the harness (and the
    RP it starts) on that one core, as in a one-CPU container. Also the verdicts of the
    last run, to show what was played."""
    times, verdicts = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        for _ in range(runs):
            started = time.monotonic()
            argv = [f"{RELEASE}/oidc-harness", "run", "--rp", "fixtures/rps/sample-rp.toml", "--out", out]
            done = subprocess.run((["taskset", "-c", pin] if pin else []) + argv,
                                  capture_output=True, text=True, timeout=600, cwd=ROOT)
            # Exit 0 or 1 is a whole run (1: a scenario failed); any other is not one to
            # time (port 8090 taken, the build failed): say why and time nothing.
            if done.returncode not in (0, 1):
                print(f"the catalog run exited {done.returncode}: {done.stderr.strip()[-500:]}", file=sys.stderr)
                return float("nan"), {}
            times.append(time.monotonic() - started)
        try:
            with open(os.path.join(out, "report.json")) as f:
                for sc in json.load(f)["scenarios"]:
                    verdicts[sc["verdict"]] = verdicts.get(sc["verdict"], 0) + 1
        except (OSError, ValueError, KeyError):
            pass
    return median(times), verdicts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peers", action="store_true", help="also measure oauth2-mock-server, oidc-provider and a bare axum server")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=4, help="length of each load")
    ap.add_argument("--markdown", help="also write the table there")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="oidc-harness-bench-")
    ours = Server("oidc-harness", [f"{RELEASE}/mock-idp", "--addr", "127.0.0.1:{port}"],
                  "/oauth2/default/.well-known/openid-configuration", "/oauth2/default/v1/keys")
    servers = [ours]
    bare = None
    if a.peers:
        # The bare server answers our own discovery document and JWKS, byte for byte.
        ours.start()
        files = []
        for path, name in [(ours.discovery_path, "discovery.json"), (ours.jwks_path, "jwks.json")]:
            files.append(os.path.join(tmp, name))
            with open(files[-1], "wb") as f:
                f.write(urllib.request.urlopen(ours.url(path)).read())
        ours.stop()
        bare = Server("bare axum", [f"{RELEASE}/examples/bench", "bare", "127.0.0.1:{port}"] + files, "/x", "/jwks")
        servers += [
            bare,
            Server("oauth2-mock-server", ["node", os.path.join(PEERS, "node_modules/oauth2-mock-server/dist/oauth2-mock-server.mjs"),
                                          "-a", "127.0.0.1", "-p", "{port}"], "/.well-known/openid-configuration", "/jwks"),
            Server("oidc-provider", ["node", os.path.join(PEERS, "oidc-provider.mjs")],
                   "/.well-known/openid-configuration", "/jwks", cwd=PEERS),
        ]
    res = {s.name: {"startup": [], "idle": [], "discovery": [], "jwks": []} for s in servers}
    print(f"benchmark: {a.rounds} interleaved rounds, {a.seconds} s loads, server on core {SERVER_CORE}, load on core {LOAD_CORE}", file=sys.stderr)
    for r in range(a.rounds):
        for s in servers:
            res[s.name]["startup"].append(s.start())
            get(s.url(s.discovery_path))
            time.sleep(0.2)
            res[s.name]["idle"].append(s.rss())
            res[s.name]["discovery"].append(wrk(s.url(s.discovery_path), a.seconds)[0])
            res[s.name]["jwks"].append(wrk(s.url(s.jwks_path), a.seconds)[0])
            s.stop()
        print(f"  round {r + 1}: " + ", ".join(f"{s.name} discovery {fmt(res[s.name]['discovery'][-1])}/s" for s in servers), file=sys.stderr)

    # Ours alone: tokens, logins, a million mixed requests, /authorize windows.
    token_lua = lua(tmp, "token.lua", f'wrk.method = "POST"\nwrk.body = "{TOKEN_FORM}"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
    mixed_lua = lua(tmp, "mixed.lua", f'''local paths = {{}}
for i = 1, 45 do paths[#paths + 1] = {{"GET", "/oauth2/default/.well-known/openid-configuration", nil}} end
for i = 1, 45 do paths[#paths + 1] = {{"GET", "/oauth2/default/v1/keys", nil}} end
for i = 1, 8 do paths[#paths + 1] = {{"GET", "/oauth2/default/v1/authorize?{AUTHORIZE_QUERY}", nil}} end
for i = 1, 2 do paths[#paths + 1] = {{"POST", "/oauth2/default/v1/token", "{TOKEN_FORM}"}} end
local n = 0
request = function()
  n = n + 1
  local p = paths[(n % #paths) + 1]
  local headers = {{}}
  if p[3] then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  return wrk.format(p[1], p[2], headers, p[3])
end
''')
    # Tokens and logins are paired with signing measured just before and after on the same
    # core: this machine's speed drifts, and a ratio of the same moment is what matters.
    def signing():
        out = subprocess.run(["taskset", "-c", SERVER_CORE, f"{RELEASE}/examples/bench", "sign", "2"],
                             capture_output=True, text=True, timeout=60)
        return float(out.stdout.strip())

    def cpu_seconds(pid):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def logins_argv(server):
        return ["taskset", "-c", LOAD_CORE, f"{RELEASE}/examples/bench", "logins",
                f"http://127.0.0.1:{server.port}", str(a.seconds), "8"]

    def tokens_and_logins(server):
        server.start()
        t = wrk(server.url("/oauth2/default/v1/token"), a.seconds, token_lua)[0]
        c0, w0 = cpu_seconds(server.proc.pid), time.monotonic()
        out = subprocess.run(logins_argv(server), capture_output=True, text=True, timeout=a.seconds + 60)
        busy = (cpu_seconds(server.proc.pid) - c0) / (time.monotonic() - w0)
        server.stop()
        return t, float(out.stdout.strip() or "nan"), busy

    # Each server's rounds are bracketed by signing: ours between the first two
    # measurements, the bare server (which signs the same tokens, checking and remembering
    # nothing: the practical limit of this machine and load generator) between the next two.
    tokens, logins, sign, token_ratio, login_ratio, login_busy = [], [], [], [], [], []
    bare_token_ratio, bare_login_ratio = [], []
    for _ in range(a.rounds):
        before = signing()
        t, l, busy = tokens_and_logins(ours)
        after = signing()
        s = (before + after) / 2
        tokens.append(t)
        logins.append(l)
        sign.append(s)
        token_ratio.append(t / s)
        login_ratio.append(l / (s / 2))
        login_busy.append(busy)
        if bare:
            t, l, _ = tokens_and_logins(bare)
            s = (after + signing()) / 2
            bare_token_ratio.append(t / s)
            bare_login_ratio.append(l / (s / 2))

    # Ours against the bare server side by side: both on the server core at once, each
    # with the same load of its own from the other core, over the same seconds; each one's
    # rate per CPU-second it was given. The machine's drift is felt by both alike and
    # cancels: one round to the next these agree within 1-3%, where rounds of one server
    # after the other move by 20% and more.
    def one_round(pair, load, figure):
        """Both servers of `pair` under `load` at once: their rates, and the first's per
        CPU-second against the second's (None if either got no CPU time)."""
        c0 = [cpu_seconds(s.proc.pid) for s in pair]
        procs = [subprocess.Popen(load(s), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for s in pair]
        outs = [p.communicate(timeout=a.seconds + 60)[0] for p in procs]
        cpu = [cpu_seconds(s.proc.pid) - c for s, c in zip(pair, c0)]
        rates = [figure(s, out) for s, out in zip(pair, outs)]
        return rates, ((rates[0] / cpu[0]) / (rates[1] / cpu[1]) if min(cpu) > 0 else None)

    def side_by_side(load, figure):
        pair = [ours, bare]
        for s in pair:
            s.start()
        ratios = []
        try:
            for _ in range(a.rounds):
                _, ratio = one_round(pair, load, figure)
                if ratio is not None:
                    ratios.append(ratio)
        finally:
            for s in pair:
                s.stop()
        return median(ratios)

    # Ours against signing itself, side by side: the server under a load and `bench sign`
    # on the server core at once, each one's rate per CPU-second it was given (the signer's
    # from its rusage). Drift-free, as side_by_side: what the server does per CPU-second
    # beside signing, the kernel's share of its requests included.
    def against_signing(load, figure, per_item, server=ours):
        server.start()
        ratios = []
        try:
            for _ in range(a.rounds):
                c0 = cpu_seconds(server.proc.pid)
                signer = subprocess.Popen(["taskset", "-c", SERVER_CORE, f"{RELEASE}/examples/bench", "sign",
                                           str(a.seconds)], stdout=subprocess.PIPE, text=True)
                loader = subprocess.Popen(load(server), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                out = loader.communicate(timeout=a.seconds + 60)[0]
                cpu = cpu_seconds(server.proc.pid) - c0
                signed = signer.stdout.read()
                signer.stdout.close()
                _, _, usage = os.wait4(signer.pid, 0)
                sign_cpu = usage.ru_utime + usage.ru_stime
                # `bench sign S` prints signatures per second over its S seconds.
                signs = float(signed.strip() or "nan") * a.seconds
                if cpu > 0 and sign_cpu > 0:
                    ratios.append((figure(server, out) * a.seconds / cpu) / (signs / per_item / sign_cpu))
        finally:
            server.stop()
        return median(ratios)

    nan = float("nan")
    by_wrk = lambda s, out: wrk_figures(s.url("/"), out)[0]
    token_load = lambda s: wrk_argv(s.url("/oauth2/default/v1/token"), a.seconds, token_lua)
    by_logins = lambda s, out: float(out.strip() or "nan")
    signing_side = {
        "tokens": against_signing(token_load, by_wrk, 1),
        "logins": against_signing(logins_argv, by_logins, 2),
        "bare tokens": against_signing(token_load, by_wrk, 1, bare) if bare else nan,
        "bare logins": against_signing(logins_argv, by_logins, 2, bare) if bare else nan,
    }
    side = {
        "discovery": side_by_side(lambda s: wrk_argv(s.url(s.discovery_path), a.seconds), by_wrk) if bare else nan,
        "jwks": side_by_side(lambda s: wrk_argv(s.url(s.jwks_path), a.seconds), by_wrk) if bare else nan,
        "tokens": side_by_side(lambda s: wrk_argv(s.url("/oauth2/default/v1/token"), a.seconds, token_lua), by_wrk)
        if bare else nan,
        "logins": side_by_side(logins_argv, lambda s, out: float(out.strip() or "nan")) if bare else nan,
    }
    ssl = openssl_sign()
    ours.start()
    total, seconds = 0, 0
    while total < 1_000_000 and seconds < 120:
        rate, n, bad = wrk(ours.url("/"), 10, mixed_lua)
        total, seconds = total + n, seconds + 10
    after_million = ours.rss()
    ours.stop()
    # Logins that each leave a refresh token behind, which never expires: the most an RP's
    # sign-ins make the IdP keep (with the codes, sessions and journal entries they leave).
    ours.start()
    refresh_logins, seconds = 0, 0
    while refresh_logins < 100_000 and seconds < 150:
        out = subprocess.run(["taskset", "-c", LOAD_CORE, f"{RELEASE}/examples/bench", "logins",
                              f"http://127.0.0.1:{ours.port}", "15", "8", "openid profile email offline_access"],
                             capture_output=True, text=True, timeout=90)
        refresh_logins, seconds = refresh_logins + int(float(out.stdout.strip() or "0") * 15), seconds + 15
    after_refresh = ours.rss()
    ours.stop()
    # Four /authorize windows back to back on one IdP, sign-ins and journal entries piling
    # up. This machine's speed drifts by more than 10% within seconds, so each window runs
    # side by side with a fresh IdP (the same binary, started for that window) under the
    # same load on the same core, and a window's figure is the long-lived IdP's /authorize
    # per CPU-second against the fresh one's: what piles up shows (at this machine's ~20k
    # requests/s each, the fresh one has not filled its journal's 100,000 entries by the
    # window's end; the long-lived one has from the second window on), the drift, felt by
    # both alike, does not. The build before the journal's ring measured 1.03x, then
    # 0.93-0.96x: a full journal freed a dozen blocks for each entry it forgot.
    # Like loads side by side agree within 1-3%; unlike ones (an /authorize page against a
    # bare server's discovery bytes) moved by 15% from one window to the next. The
    # instruction counts below are the in-process view of the same.
    fresh = Server("fresh oidc-harness", ours.argv, ours.discovery_path, ours.jwks_path)
    authorize_load = lambda s: wrk_argv(s.url(f"/oauth2/default/v1/authorize?{AUTHORIZE_QUERY}"), a.seconds)
    windows, against_fresh = [], []
    ours.start()
    try:
        for _ in range(4):
            fresh.start()
            rates, ratio = one_round([ours, fresh], authorize_load, by_wrk)
            fresh.stop()
            windows.append(rates[0])
            if ratio is not None:
                against_fresh.append(ratio)
    finally:
        ours.stop()
        fresh.stop()
    # The IdP's own work beside a token's signature, in instructions (callgrind counts the
    # same whatever else the machine does).
    own = disc_instr = bare_instr = login_instr = bare_login_instr = float("nan")
    auth_instr = []
    if shutil.which("valgrind"):
        def instructions(kind, n):
            out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                                  f"{RELEASE}/examples/bench", "work", kind, str(n)],
                                 capture_output=True, text=True, timeout=600).stderr
            m = re.search(r"refs:\s+([\d,]+)", out)
            return int(m.group(1).replace(",", "")) if m else float("nan")
        # From the second on: the first of each seeds aws-lc's generator (~400M
        # instructions of jitter entropy, once per process).
        per_sign = (instructions("sign", 41) - instructions("sign", 1)) / 40
        per_token = (instructions("token", 41) - instructions("token", 1)) / 40
        own = per_token / per_sign - 1
        # A login, ours against the bare server's (the same two signatures, nothing checked
        # or kept): what the IdP does beside signing, in instructions. From the 21st on, past
        # the generator's seeding and the first requests' warm-up.
        login_instr = (instructions("login", 121) - instructions("login", 21)) / 100
        bare_login_instr = (instructions("bare-login", 121) - instructions("bare-login", 21)) / 100
        # Discovery against the bare handler, both through the router in-process: what the
        # IdP adds per request (journal, server lookup, headers), free of the VM's drift.
        disc_instr = (instructions("discovery", 5000) - instructions("discovery", 1000)) / 4000
        bare_instr = (instructions("bare", 5000) - instructions("bare", 1000)) / 4000
        # /authorize's cost as sign-ins pile up, free of the VM's drift: instructions of
        # each thousand requests (callgrind dumps its counts after each), four windows of
        # 10,000 after the first 10,000 (the pending sign-ins' cap) filled the maps.
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["valgrind", "--tool=callgrind", "--dump-after=*window_end*",
                            f"--callgrind-out-file={d}/cg", f"{RELEASE}/examples/bench", "work",
                            "authorize", "50000"], capture_output=True, timeout=900)
            per_k = []
            for i in range(1, 51):
                try:
                    with open(f"{d}/cg.{i}") as f:
                        per_k.append(int(re.search(r"^totals: (\d+)", f.read(), re.M).group(1)))
                except (OSError, AttributeError):
                    break
            if len(per_k) == 50:
                auth_instr = [sum(per_k[10 + 10 * w:20 + 10 * w]) / 10_000 for w in range(4)]
    # What redaction costs a long run: each issued value followed by redacting a log line.
    redact_us = float(subprocess.run(["taskset", "-c", SERVER_CORE, f"{RELEASE}/examples/bench", "redact", "10000"],
                                     capture_output=True, text=True, timeout=120).stdout.strip() or "nan")
    catalog, catalog_verdicts = catalog_seconds(3)
    catalog_one_cpu, _ = catalog_seconds(3, SERVER_CORE)
    shutil.rmtree(tmp, ignore_errors=True)

    def spread(xs):
        return (max(xs) - min(xs)) / max(xs)

    o = res["oidc-harness"]
    # Each round's ratio (ours and the other measured seconds apart), then their median;
    # against the bare server, first the side-by-side ratio (drift-free), then that.
    def ratios(key):
        parts = []
        for s in servers[1:]:
            r = median([x / y for x, y in zip(o[key], res[s.name][key])])
            parts.append(f"{side[key]:.2f}x {s.name} side by side per CPU-second ({r:.2f}x round by round)"
                         if s is bare else f"{r:.2f}x {s.name}")
        return "; ".join(parts)
    rows = [
        ("start-up to first discovery answer", f"{median(o['startup']):.1f} ms",
         "; ".join(f"{s.name} {median(res[s.name]['startup']):.0f} ms" for s in servers[1:] if s is not bare)),
        ("idle RSS", f"{median(o['idle']):.1f} MiB",
         "; ".join(f"{s.name} {median(res[s.name]['idle']):.1f} MiB" for s in servers[1:])),
        ("discovery", f"{fmt(median(o['discovery']))} req/s", ratios("discovery")),
        ("JWKS", f"{fmt(median(o['jwks']))} req/s", ratios("jwks")),
        ("client_credentials tokens (RS256)", f"{fmt(median(tokens))}/s",
         f"side by side with signing on the same core, {signing_side['tokens']:.0%} of its signatures per CPU-second"
         + (f" (the bare signing server {signing_side['bare tokens']:.0%})" if bare else "")
         + f"; {median(token_ratio):.0%} of signing measured just before and after ({fmt(median(sign))}/s; openssl speed {fmt(ssl)}/s)"
         + (f" (the bare signing server {median(bare_token_ratio):.0%}); side by side with the bare server, "
            f"ours {side['tokens']:.2f}x its tokens per CPU-second" if bare else "")),
        ("discovery through the router, in instructions", f"{disc_instr:,.0f} per request",
         f"callgrind, in-process: the bare handler {bare_instr:,.0f} (+{disc_instr / bare_instr - 1:.0%})"),
        ("the IdP's own work per token, beside its signature", f"{own:+.1%} instructions",
         "callgrind, in-process (no network): what is not signing in the token path"),
        ("code + PKCE logins (2 signatures, 3 requests each)", f"{fmt(median(logins))}/s",
         f"side by side with signing on the same core, {signing_side['logins']:.0%} of the two-signature bound per CPU-second"
         + (f" (the bare login server {signing_side['bare logins']:.0%})" if bare else "")
         + f"; {median(login_ratio):.0%} of the bound measured just before and after ({fmt(median(sign) / 2)}/s), server core {median(login_busy):.0%} busy"
         + (f" (the bare login server {median(bare_login_ratio):.0%}); side by side with the bare server, "
            f"ours {side['logins']:.2f}x its logins per CPU-second" if bare else "")),
        ("a login in instructions, beside the bare server's", f"{login_instr - bare_login_instr:+,.0f} per login",
         f"callgrind, in-process: ours {login_instr:,.0f}, the bare login server {bare_login_instr:,.0f}, "
         "both signing the same two tokens (under valgrind, aws-lc signs on its AVX2 path, not the AVX-512 IFMA one this machine uses natively)"),
        ("RSS after mixed requests", f"{after_million:.1f} MiB", f"{total:,} requests (discovery, JWKS, authorize, tokens)"),
        ("RSS after logins keeping refresh tokens", f"{after_refresh:.1f} MiB",
         f"{refresh_logins:,} code + PKCE logins with offline_access (each leaves a session, a code and a refresh token)"),
        ("/authorize, 4 windows back to back", " / ".join(fmt(w) for w in windows) + " req/s, sharing the core",
         f"spread {spread(against_fresh):.1%} side by side with a fresh IdP per CPU-second, one started for each window "
         f"({' / '.join(f'{x:.2f}x' for x in against_fresh)}); raw spread {spread(windows):.0%}"),
        ("/authorize in instructions, 4 windows of 10,000", " / ".join(f"{x / 1000:.1f}k" for x in auth_instr) or "-",
         (f"spread {(max(auth_instr) - min(auth_instr)) / max(auth_instr):.1%}: callgrind, in-process, "
          "after the first 10,000 filled the pending sign-ins' cap") if auth_instr else "valgrind missing"),
        ("redacting an RP log line after each new issued value", f"{redact_us:.0f} µs",
         "10,000 values known (the most remembered), a login's (codes and kilobyte JWTs): the large automaton rebuilt once per 256 new values"),
        ("catalog against the sample RP", f"{catalog:.2f} s",
         "README's command (`oidc-harness run --rp fixtures/rps/sample-rp.toml`), default jobs and reports, median of 3: "
         + ", ".join(f"{n} {v}" for v, n in sorted(catalog_verdicts.items()))
         + f"; {catalog_one_cpu:.2f} s on one CPU (the harness and the RP pinned to one core)"),
    ]
    machine = f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    table = [f"Measured {date} on this project's machine ({machine}); server pinned to one core, load on the other.", "",
             "| measure | oidc-harness | against |", "|---|---|---|"]
    table += [f"| {m} | {v} | {c} |" for m, v, c in rows]
    text = "\n".join(table) + "\n"
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
