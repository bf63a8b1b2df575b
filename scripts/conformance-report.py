#!/usr/bin/env python3
"""Helpers for scripts/conformance.sh (stdlib only).

  conformance-report.py regex LISTFILE
      a Go (RE2) regex matching exactly the spec names in LISTFILE (one a line, # comments)
  conformance-report.py table REPORT.json OUT.md TITLE-LINES-FILE [SELECTED.json]
      the results table from ginkgo's JSON report; prints "ran passed failed skipped";
      specs of SELECTED.json (a --dry-run report of the same selection) that did not run are
      listed as "not run" (the suite timed out or was interrupted first)
  conformance-report.py check REPORT.json LISTFILE
      exit 1 (listing them) when a spec in LISTFILE did not pass
  conformance-report.py merge BASE.md PARTIAL.md
      BASE.md with the rows of PARTIAL.md (a later run of some of its specs) in place of its
      own; rows PARTIAL.md did not run stay as they were. PARTIAL.md's title is kept under
      BASE.md's, so the table says which rows come from which run. Prints the counts.
"""
import json
import re
import sys

SPECIAL = set('\\.+*?()|[]{}^$')


def names(path):
    with open(path, encoding='utf-8') as f:
        return [l.strip() for l in f if l.strip() and not l.startswith('#')]


def re2_escape(s):
    return ''.join('\\' + c if c in SPECIAL else c for c in s)


def specs(report_path):
    """(name, state, reason, seconds) of every spec ginkgo selected (ran or skipped at run time)."""
    with open(report_path, encoding='utf-8') as f:
        suites = json.load(f)
    out = []
    for suite in suites:
        for r in suite.get('SpecReports') or []:
            failure = r.get('Failure') or {}
            state = r.get('State', '')
            kind = r.get('LeafNodeType')
            if kind != 'It':
                # A failed suite-level node (BeforeSuite ...) is why nothing ran: show it.
                if state not in ('passed', 'skipped'):
                    msg = (failure.get('Message') or state).strip()
                    out.append(('[%s]' % kind, state, msg.splitlines()[0], r.get('RunTime', 0) / 1e9))
                continue
            # Specs left out by the focus/skip filters are "skipped" with no failure record.
            if state == 'skipped' and not failure:
                continue
            name = ' '.join((r.get('ContainerHierarchyTexts') or []) + [r.get('LeafNodeText', '')])
            msg = (failure.get('Message') or '').strip()
            reason = msg.splitlines()[0] if msg else ''
            if state in ('failed', 'panicked', 'timedout', 'interrupted', 'aborted') and not reason:
                reason = state
            out.append((name, state, reason, r.get('RunTime', 0) / 1e9))
    return sorted(out)


def specs_selected(dry_run_path):
    """The specs a --dry-run report selected: ginkgo marks them passed."""
    return [r for r in specs(dry_run_path) if r[1] == 'passed']


def cell(s, limit=300):
    """A table cell; spec names are kept whole (a re-run selects specs by them)."""
    s = s.replace('|', '\\|').replace('\n', ' ')
    return s if limit is None else s[:limit]


def table(report_path, out_path, title_path, selected_path=None):
    rows = specs(report_path)
    if selected_path:
        ran = {name for name, state, _, _ in rows}
        for name, _, _, _ in specs_selected(selected_path):
            if name not in ran:
                rows.append((name, 'not run', 'not reached before the suite timed out or was interrupted', 0))
        rows.sort()
    count = {}
    for _, state, _, _ in rows:
        key = state if state in ('passed', 'skipped', 'not run') else 'failed'
        count[key] = count.get(key, 0) + 1
    with open(title_path, encoding='utf-8') as f:
        title = f.read()
    with open(out_path, 'w', encoding='utf-8') as f:
        f.write(title)
        notrun = count.get('not run', 0)
        f.write('\n%d specs ran: %d passed, %d failed, %d skipped at run time; %d not run.\n\n'
                % (len(rows) - notrun, count.get('passed', 0), count.get('failed', 0),
                   count.get('skipped', 0), notrun))
        f.write('| Spec | Result | Seconds | Why (failure or skip) |\n|---|---|---|---|\n')
        for name, state, reason, secs in rows:
            result = {'passed': 'pass', 'skipped': 'skip', 'not run': 'not run'}.get(
                state, 'FAIL' if state == 'failed' else state.upper())
            f.write('| %s | %s | %.0f | %s |\n' % (cell(name, None), result, secs, cell(reason)))
    print(len(rows) - count.get('not run', 0), count.get('passed', 0), count.get('failed', 0),
          count.get('skipped', 0))


COUNTS = re.compile(r'^\d+ specs ran: .* not run\.$')
RESULT_NAMES = {'pass': 'passed', 'skip': 'skipped', 'not run': 'not run'}


def parse_table(path):
    """(title lines, {spec: row line}, lines after the table) of a table this script wrote."""
    title, rows, tail = [], {}, []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('| ') and not line.startswith('| Spec |'):
                rows[re.split(r'(?<!\\)\|', line)[1].strip()] = line
            elif line.startswith('|---') or line.startswith('| Spec |') or COUNTS.match(line):
                continue
            else:
                (tail if rows else title).append(line)
    while title and not title[-1]:
        title.pop()
    return title, rows, tail


def merge(base_path, partial_path):
    title, rows, tail = parse_table(base_path)
    later_title, later, _ = parse_table(partial_path)
    replaced = 0
    for name, line in later.items():
        if re.split(r'(?<!\\)\|', line)[2].strip() != 'not run' and name in rows:
            rows[name] = line
            replaced += 1
    count = {}
    for line in rows.values():
        result = re.split(r'(?<!\\)\|', line)[2].strip()
        key = RESULT_NAMES.get(result, 'failed')
        count[key] = count.get(key, 0) + 1
    notrun = count.get('not run', 0)
    later_lines = [l for l in later_title if l and not l.startswith('# ')]
    with open(base_path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(title) + '\n\n')
        f.write('Rows updated by a later run (%d specs): %s\n' % (replaced, ' '.join(later_lines)))
        f.write('\n%d specs ran: %d passed, %d failed, %d skipped at run time; %d not run.\n\n'
                % (len(rows) - notrun, count.get('passed', 0), count.get('failed', 0),
                   count.get('skipped', 0), notrun))
        f.write('| Spec | Result | Seconds | Why (failure or skip) |\n|---|---|---|---|\n')
        for name in sorted(rows):
            f.write(rows[name] + '\n')
        if tail:
            f.write('\n'.join(tail) + '\n')
    print(len(rows) - notrun, count.get('passed', 0), count.get('failed', 0), count.get('skipped', 0))


def check(report_path, list_path):
    states = {name: state for name, state, _, _ in specs(report_path)}
    bad = [(n, states.get(n, 'not run')) for n in names(list_path) if states.get(n) != 'passed']
    for n, s in bad:
        print('REGRESSION (%s): %s' % (s, n))
    return 1 if bad else 0


def main(argv):
    if len(argv) == 3 and argv[1] == 'regex':
        # No ^: the text ginkgo matches may start before the spec's hierarchy text.
        print('(' + '|'.join(re2_escape(n) for n in names(argv[2])) + ')$')
        return 0
    if len(argv) in (5, 6) and argv[1] == 'table':
        table(*argv[2:])
        return 0
    if len(argv) == 4 and argv[1] == 'check':
        return check(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == 'merge':
        merge(argv[2], argv[3])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
