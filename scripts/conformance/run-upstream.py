#!/usr/bin/env python3
"""Run Mosquitto's own broker test suite (test/broker/*.py and msg_sequence_test.py) against a
broker: skeeter (this checkout's scripts/bin/mosquitto) or a built Mosquitto tree.

The suite is a reference to learn from: it is read from a Mosquitto source tree given on the
command line and run in a scratch copy, never copied into this repository.

  scripts/conformance/run-upstream.py --tree /tmp/mosq2020 --broker skeeter [--jobs 4] [PATTERN ...]
  scripts/conformance/run-upstream.py --tree /tmp/mosq2020 --broker mosquitto

--tree is a built Mosquitto source tree (the oracle's build script makes one). PATTERNs select
upstream tests by substring; 'msgseq' selects the byte-sequence test. Each test gets its own
block of ports from --base-port; results go to --out as JSON and a summary to stdout.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))

ap = argparse.ArgumentParser()
ap.add_argument('--tree', required=True, help='built Mosquitto source tree')
ap.add_argument('--broker', default='skeeter', help="'skeeter', 'mosquitto' (the tree's own), or a path")
ap.add_argument('--jobs', type=int, default=4)
ap.add_argument('--base-port', type=int, default=21000)
ap.add_argument('--timeout', type=float, default=120)
ap.add_argument('--work', default=None, help='scratch directory (default /tmp/upstream-<broker>)')
ap.add_argument('--out', default=None, help='write results as JSON here')
ap.add_argument('--no-msgseq', action='store_true')
ap.add_argument('--python', default='/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable,
                help="interpreter for the tests (they need psutil: Debian's python3-psutil)")
ap.add_argument('patterns', nargs='*')
args = ap.parse_args()

tree = os.path.abspath(args.tree)
if not os.path.isfile(os.path.join(tree, 'test', 'broker', 'test.py')):
    sys.exit(f'no test/broker/test.py under {tree}')

name = args.broker if args.broker in ('skeeter', 'mosquitto') else 'custom'
work = os.path.abspath(args.work or f'/tmp/upstream-{name}')
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
shutil.copytree(os.path.join(tree, 'test'), os.path.join(work, 'test'), symlinks=True)
os.makedirs(os.path.join(work, 'src'))
for d in ('lib', 'plugins', 'apps', 'client'):
    src = os.path.join(tree, d)
    if os.path.isdir(src):
        os.symlink(src, os.path.join(work, d))

if args.broker == 'skeeter':
    target = os.path.join(repo, 'scripts', 'bin', 'mosquitto')
    env_line = ''
elif args.broker == 'mosquitto':
    target = os.path.join(tree, 'src', 'mosquitto')
    env_line = f'LD_LIBRARY_PATH={tree}/lib '
else:
    target = os.path.abspath(args.broker)
    env_line = ''
# The tarball's test certificates expired in February 2025; make a fresh set with its own gen.sh
# (same names, subjects, CA chain, CRLs) so the TLS tests test TLS and not the calendar.
ssl_dir = os.path.join(work, 'test', 'ssl')
expired = subprocess.run(['openssl', 'x509', '-checkend', '0', '-noout', '-in',
                          os.path.join(ssl_dir, 'server.crt')], capture_output=True).returncode != 0
if expired:
    subprocess.run(['sh', 'gen.sh'], cwd=ssl_dir, capture_output=True, check=True)

# Started as root, Mosquitto drops to the user 'mosquitto', which must be able to write its
# database and dynsec files beside the tests.
for dirpath, dirnames, filenames in os.walk(work):
    os.chmod(dirpath, 0o777)
    for fn in filenames:
        fp = os.path.join(dirpath, fn)
        if not os.path.islink(fp):
            os.chmod(fp, os.stat(fp).st_mode | 0o644)
wrapper = os.path.join(work, 'src', 'mosquitto')
with open(wrapper, 'w') as f:
    f.write(f'#!/bin/sh\n{env_line}exec {target} "$@"\n')
os.chmod(wrapper, 0o755)

bdir = os.path.join(work, 'test', 'broker')
listing = open(os.path.join(bdir, 'test.py')).read()
tests = [(int(n), p[2:]) for n, p in re.findall(r"^\s*\((\d+),\s*'(\./[^']+)'\)", listing, re.M)]
if not args.no_msgseq:
    tests.insert(0, (1, 'msg_sequence_test.py'))
if args.patterns:
    tests = [t for t in tests if any(p in t[1] or (p == 'msgseq' and 'msg_sequence' in t[1])
                                     for p in args.patterns)]


def loads_c_plugin(path):
    """Tests that load a plugin compiled from test/broker/c: only a C broker can run them."""
    text = open(os.path.join(bdir, path), errors='replace').read()
    return re.search(r"c/[A-Za-z0-9_-]+\.so|c/auth_plugin|\.test['\"]", text) is not None


skipped = sorted(p for _, p in tests if p != 'msg_sequence_test.py' and loads_c_plugin(p))
tests = [t for t in tests if t[1] not in skipped]
results = {}
free_blocks = list(range(args.jobs))
running = []
queue = list(tests)
start = time.time()


def launch(t, block):
    count, path = t
    ports = [str(args.base_port + block * 10 + i) for i in range(count)]
    if path == 'msg_sequence_test.py':
        ports = ['1888']  # its helper publisher always connects to 1888
    log = open(os.path.join(work, path + '.log'), 'w')
    proc = subprocess.Popen([args.python, path] + ports, cwd=bdir, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: os.umask(0))
    return (proc, t, block, time.time(), log)


while queue or running:
    while queue and free_blocks:
        running.append(launch(queue.pop(0), free_blocks.pop(0)))
    time.sleep(0.05)
    for r in list(running):
        proc, t, block, t0, log = r
        rc = proc.poll()
        if rc is None and time.time() - t0 > args.timeout:
            os.killpg(proc.pid, 9)
            proc.wait()
            rc = 'timeout'
        if rc is None:
            continue
        running.remove(r)
        log.close()
        free_blocks.append(block)
        out = open(os.path.join(work, t[1] + '.log'), errors='replace').read()
        entry = {'rc': rc, 'seconds': round(time.time() - t0, 2)}
        if t[1] == 'msg_sequence_test.py':
            m = re.search(r'(\d+) tests total\n(\d+) tests succeeded', out)
            if m:
                entry['total'], entry['succeeded'] = int(m.group(1)), int(m.group(2))
            entry['failed'] = [re.sub(r'\x1b\[[0-9;]*m', '', l) for l in out.splitlines()
                               if ' failed: ' in l]
        else:
            tail = [l for l in out.splitlines() if l.strip()][-4:]
            entry['tail'] = ' | '.join(tail)[:400]
        results[t[1]] = entry
        mark = 'ok  ' if rc == 0 else 'FAIL'
        print(f'{mark} {entry["seconds"]:6.1f}s {t[1]}', flush=True)

passed = sorted(k for k, v in results.items() if v['rc'] == 0 and k != 'msg_sequence_test.py')
failed = sorted(k for k, v in results.items() if v['rc'] != 0 and k != 'msg_sequence_test.py')
print(f'\nbroker tests: {len(passed)} pass, {len(failed)} fail, {len(skipped)} skipped '
      f'(they load a C plugin or program from test/broker/c) ({time.time() - start:.0f} s)')
for k in failed:
    print(f'  {k}  # rc={results[k]["rc"]} {results[k].get("tail", "")[:200]}')
ms = results.get('msg_sequence_test.py')
if ms:
    print(f'msg_sequence_test: {ms.get("succeeded", "?")} of {ms.get("total", "?")} succeeded')
if args.out:
    with open(args.out, 'w') as f:
        json.dump({'results': results, 'skipped': skipped}, f, indent=1)
