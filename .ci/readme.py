#!/usr/bin/env python3
"""Run every command of README.md as written, on a fresh clone.

    python3 .ci/readme.py [REPO]     (REPO: a git repository, default: this one)

The README's shell blocks (```sh) run in order in one bash session, at the
root of a fresh clone of REPO's HEAD with no ../shared beside it, so that
a block's background servers and exports are there for the next. A block
fails the run when a command in it fails, and when a `# stdout: TEXT`
line in it names a TEXT its standard output does not hold. A ```console
block runs each `$ COMMAND` and compares what it prints with the lines the
README shows after it, exactly.

An HTML comment right before a block changes that:

    <!-- readme: skip (REASON) -->   the block is not run; REASON is listed
    <!-- readme: file NAME -->       the block is written to NAME, for the
                                     commands after it to read

Other blocks (json, go, text) are not commands. The run lists what it
skipped and why, and exits 1 on the first failure, showing the block and
its output. The /tmp paths the README uses are removed first, and every
server still running at the end is stopped.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

FENCE = re.compile(r'^```(\w*)\s*$')
MARK = re.compile(r'^<!-- readme: (skip|file) (.+?) -->$')
# What the README's commands leave in /tmp; a run starts without them.
TMP_PATHS = ['/tmp/mirror-data', '/tmp/mirror-tls', '/tmp/mirror-credentials.json',
             '/tmp/demo-keys.txt', '/tmp/demo-keys.txt.warm-state', '/tmp/demo-keys.second']
PORTS = [8000, 8080, 8443]


def blocks(text):
    """Yield (line number, language, marker, body) per fenced block."""
    lines = text.split('\n')
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        marker = None
        j = i - 1
        if j >= 0 and MARK.match(lines[j]):
            marker = MARK.match(lines[j]).groups()
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != '```':
            body.append(lines[i])
            i += 1
        i += 1
        yield start + 1, lang, marker, '\n'.join(body) + '\n'


def console_steps(body):
    """Split a console block into (command, expected output) pairs."""
    steps, cmd, out = [], None, []
    lines = body.rstrip('\n').split('\n')
    k = 0
    while k < len(lines):
        line = lines[k]
        if line.startswith('$ '):
            if cmd is not None:
                steps.append((cmd, '\n'.join(out)))
            cmd, out = line[2:], []
            # A command goes on after a line ending in \, | or &&.
            while cmd.rstrip().endswith(('\\', '|', '&&')) and k + 1 < len(lines):
                k += 1
                cmd = cmd + '\n' + lines[k]
        else:
            out.append(line)
        k += 1
    if cmd is not None:
        steps.append((cmd, '\n'.join(out)))
    return steps


def port_busy(port):
    import socket
    s = socket.socket()
    try:
        return s.connect_ex(('127.0.0.1', port)) == 0
    finally:
        s.close()


def main():
    repo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..'))
    busy = [p for p in PORTS if port_busy(p)]
    if busy:
        sys.exit('readme: ports %s are taken: the README\'s servers need them' % busy)
    for p in TMP_PATHS:
        shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else (os.path.exists(p) and os.remove(p))
    work = tempfile.mkdtemp(prefix='mirror-readme-')
    clone = os.path.join(work, 'main')
    subprocess.run(['git', 'clone', '-q', repo, clone], check=True)
    out = os.path.join(work, 'out')
    os.mkdir(out)
    readme = open(os.path.join(clone, 'README.md'), encoding='utf-8').read()

    # One bash script: each block is a function of its own, run in turn,
    # its output kept in a file; the driver stops at the first failure.
    # A failing command ends the sourced block and the whole shell (set -e):
    # the EXIT trap then shows that block's output.
    script = ['cd "%s"' % clone, 'current=""',
              'fail() { echo "readme: FAILED: $1" >&2; exit 1; }',
              'atexit() { rc=$?; if [ $rc -ne 0 ] && [ -n "$current" ]; then cat "$current" >&2;'
              ' echo "readme: FAILED: $where: exit status $rc" >&2; fi;'
              ' for p in $(jobs -p); do kill "$p" 2>/dev/null; done; wait 2>/dev/null; exit $rc; }',
              'trap atexit EXIT']
    ran, skipped = [], []
    for n, (line, lang, marker, body) in enumerate(blocks(readme)):
        where = 'README.md:%d' % line
        if marker and marker[0] == 'skip':
            skipped.append((where, lang, marker[1]))
            continue
        if marker and marker[0] == 'file':
            name = marker[1]
            path = os.path.join(out, 'file%d' % n)
            open(path, 'w', encoding='utf-8').write(body)
            script.append('cp "%s" "%s" || fail "%s: writing %s"' % (path, name, where, name))
            continue
        if lang == 'sh':
            path = os.path.join(out, 'block%d.sh' % n)
            open(path, 'w', encoding='utf-8').write('set -e\n' + body)
            stdout = os.path.join(out, 'block%d.out' % n)
            script.append('echo "== %s" >&2; where="%s"; current="%s"' % (where, where, stdout))
            # Sourced, so that its jobs, exports and cd stay.
            script.append('source "%s" >"%s" 2>&1 </dev/null; set +e; current=""' % (path, stdout))
            for want in re.findall(r'^# stdout: (.+)$', body, re.M):
                wantfile = os.path.join(out, 'want%d_%d' % (n, len(script)))
                open(wantfile, 'w', encoding='utf-8').write(want)
                script.append('grep -qF -f "%s" "%s" || { cat "%s" >&2; fail "%s: no line says: %s"; }'
                              % (wantfile, stdout, stdout, where, want.replace('"', '\\"').replace('$', '\\$').replace('`', '\\`')))
            ran.append(where)
        elif lang == 'console':
            script.append('echo "== %s" >&2' % where)
            script.append('rc=0')
            for k, (cmd, expected) in enumerate(console_steps(body)):
                cmdfile = os.path.join(out, 'console%d_%d.sh' % (n, k))
                open(cmdfile, 'w', encoding='utf-8').write(cmd + '\n')
                expfile = os.path.join(out, 'console%d_%d.want' % (n, k))
                open(expfile, 'w', encoding='utf-8').write(expected + ('\n' if expected else ''))
                got = os.path.join(out, 'console%d_%d.got' % (n, k))
                # $? is the previous command's, as at a prompt.
                script.append('( exit $rc ); source "%s" >"%s" 2>/dev/null </dev/null; rc=$?' % (cmdfile, got))
                script.append('diff -u "%s" "%s" >&2 || fail "%s: \\$ %s printed otherwise"'
                              % (expfile, got, where, cmd.split('\n')[0].replace('"', '\\"').replace('$', '\\$')))
            ran.append(where)
    script.append('echo "readme: every block ran as written" >&2')
    driver = os.path.join(out, 'driver.sh')
    open(driver, 'w').write('\n'.join(script) + '\n')
    env = dict(os.environ)
    res = subprocess.run(['bash', driver], env=env, timeout=1800)
    print('readme: ran %d blocks; skipped %d:' % (len(ran), len(skipped)))
    for where, lang, why in skipped:
        print('  %s (%s): %s' % (where, lang or 'text', why))
    if res.returncode != 0:
        print('readme: the output of each block is in', out)
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
