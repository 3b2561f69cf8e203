#!/usr/bin/env python3
"""Turn one of osmo-uigw's Markdown documents (doc/*.md) into a chapter of the AsciiDoc user manual.

The documents are the one source of what they describe; the manual includes them, so the two cannot drift.
This reads the subset of Markdown those files are written in — headings, paragraphs, `-` and `1.` lists
(nested by two spaces), fenced code blocks, pipe tables, images, links, `code`, **strong** — and fails
loudly on anything it would render wrongly, rather than guessing.

Usage: md2adoc.py IN.md OUT.adoc [--appendix]
(the first heading gets the file's base name as its anchor; the manual's header defines the attributes used for escaping: hash, lbrace, rbrace, tilde, caret, apos).
"""
import re
import sys

ESC = {'{': '{lbrace}', '}': '{rbrace}', '~': '{tilde}', '^': '{caret}', '+': '{plus}', '#': '{hash}',
       '\\': '{backslash}'}


def esc_text(s):
    """Text outside code spans: nothing AsciiDoc would read as markup, except **strong** and links."""
    out = ''.join(ESC.get(c, c) for c in s)
    # a single quote could open 'emphasis' or close `singlequoted'
    out = out.replace("'", '{apos}')
    # -- between words would become an em dash
    out = out.replace('--', '-{empty}-')
    # (C), (R), (TM) would become symbols
    out = re.sub(r'\((C|R|TM)\)', r'({empty}\1)', out)
    return out


LINK = re.compile(r'\[([^\]]+)\]\((https?://[^)\s]+)\)')


def inline(s, in_table=False):
    """One paragraph (joined to one line): code spans stay literal, the rest is escaped."""
    parts = re.split(r'(`[^`]+`)', s)
    out = []
    for i, p in enumerate(parts):
        if p.startswith('`') and p.endswith('`') and len(p) >= 2:
            code = p
            if in_table:
                code = code.replace('|', '\\|')
            # AsciiDoc's `literal` is constrained: a span touching a word character becomes a $$ passthrough
            # in unconstrained ++monospace++
            if (out and re.search(r'\w$', out[-1])) or (i + 1 < len(parts) and re.match(r'\w', parts[i + 1])):
                if '$$' in code or '+' in code:
                    raise ValueError('a code span AsciiDoc cannot render next to a word: %r' % code)
                code = '++$$' + code[1:-1] + '$$++'
            out.append(code)
            continue
        links = []

        def keep(m):
            links.append('%s[%s]' % (m.group(2), esc_text(m.group(1))))
            return '\0%d\0' % (len(links) - 1)
        p = LINK.sub(keep, p)
        if '](' in p:
            raise ValueError('unsupported link: %r' % p)
        p = esc_text(p)
        if in_table:
            p = p.replace('|', '\\|')
        p = re.sub('\0(\\d+)\0', lambda m: links[int(m.group(1))], p)
        out.append(p)
    return ''.join(out)


def table_cells(line):
    """A pipe table row: cells split on | outside code spans, \\| kept as a bar."""
    line = line.strip()
    if line.startswith('|'):
        line = line[1:]
    if line.endswith('|') and not line.endswith('\\|'):
        line = line[:-1]
    cells, cur, code = [], '', False
    i = 0
    while i < len(line):
        c = line[i]
        if c == '\\' and i + 1 < len(line) and line[i + 1] == '|':
            cur += '|'
            i += 2
            continue
        if c == '`':
            code = not code
        if c == '|' and not code:
            cells.append(cur.strip())
            cur = ''
        else:
            cur += c
        i += 1
    cells.append(cur.strip())
    return cells


LIST = re.compile(r'^( *)(-|\*|\d+\.) +(.*)$')


def convert(lines, level_offset, anchor=None, appendix=False):
    out = []
    i = 0
    n = len(lines)

    def blank():
        if out and out[-1] != '':
            out.append('')

    while i < n:
        line = lines[i].rstrip('\n')
        if not line.strip():
            blank()
            i += 1
            continue
        if line.startswith('```'):
            blank()
            out.append('----')
            i += 1
            while i < n and not lines[i].startswith('```'):
                body = lines[i].rstrip('\n')
                if body.strip() == '----':
                    raise ValueError('line %d: a code line AsciiDoc would read as the block end' % (i + 1))
                out.append(body)
                i += 1
            if i >= n:
                raise ValueError('unterminated code block')
            out.append('----')
            out.append('')
            i += 1
            continue
        if line.startswith('    ') and (not out or out[-1] == '') and not LIST.match(line):
            # an indented code block (after a blank line, not a list item's continuation)
            out.append('....')
            while i < n and (lines[i].startswith('    ') or (not lines[i].strip() and i + 1 < n and
                                                             lines[i + 1].startswith('    '))):
                body = lines[i].rstrip('\n')[4:]
                if body.strip() == '....':
                    raise ValueError('line %d: a code line AsciiDoc would read as the block end' % (i + 1))
                out.append(body)
                i += 1
            out.append('....')
            out.append('')
            continue
        m = re.match(r'^(#{1,4}) +(.*)$', line)
        if m:
            blank()
            if anchor:
                if appendix:
                    out.append('[appendix]')
                out.append('[[%s]]' % anchor)
                anchor = None
            out.append('=' * (len(m.group(1)) + level_offset) + ' ' + inline(m.group(2)))
            out.append('')
            i += 1
            continue
        m = re.match(r'^!\[([^\]]*)\]\(([^)\s]+)\)\s*$', line)
        if m:
            blank()
            out.append('image::%s[%s]' % (m.group(2), esc_text(m.group(1)).replace(',', '{comma}')))
            out.append('')
            i += 1
            continue
        if line.startswith('|'):
            rows = []
            while i < n and lines[i].startswith('|'):
                rows.append(lines[i].rstrip('\n'))
                i += 1
            if len(rows) < 2 or not re.match(r'^\|[\s:|-]+\|?$', rows[1]):
                raise ValueError('a table without its header separator near %r' % rows[0])
            head = table_cells(rows[0])
            blank()
            out.append('[options="header",cols="%d*"]' % len(head))
            out.append('|===')
            for r in [rows[0]] + rows[2:]:
                cells = table_cells(r)
                if len(cells) != len(head):
                    raise ValueError('a table row with %d cells, not %d: %r' % (len(cells), len(head), r))
                out.append(' '.join('|' + inline(c, True) for c in cells))
            out.append('|===')
            out.append('')
            continue
        if line.startswith('>') or re.match(r'^(---+|\*\*\*+)\s*$', line) or line.startswith('<'):
            raise ValueError('line %d: unsupported Markdown: %r' % (i + 1, line))
        m = LIST.match(line)
        if m:
            if out and out[-1] != '' and not LIST_OUT.match(out[-1]):
                out.append('')
            indent, mark, text = len(m.group(1)), m.group(2), m.group(3)
            depth = indent // 2 + 1
            i += 1
            # continuation lines: indented or lazy, until a blank line, a new item, a block or a heading
            while i < n and lines[i].strip() and not LIST.match(lines[i]) and not lines[i].startswith(
                    ('```', '#', '|')):
                text += ' ' + lines[i].strip()
                i += 1
            sym = ('.' if mark[0].isdigit() else '*') * depth
            out.append(sym + ' ' + inline(text))
            continue
        # a paragraph, joined to one line so that no wrapped line starts like a block
        text = line.strip()
        i += 1
        while i < n and lines[i].strip() and not LIST.match(lines[i]) and not lines[i].startswith(
                ('```', '#', '|')):
            text += ' ' + lines[i].strip()
            i += 1
        para = inline(text)
        if re.match(r'^[.\[:=/+*-<>|]|^[A-Z]+:', para):
            para = '{empty}' + para
        blank()
        out.append(para)
        out.append('')
    while out and out[-1] == '':
        out.pop()
    return '\n'.join(out) + '\n'


LIST_OUT = re.compile(r'^(\*+|\.+) ')


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    level_offset = 1
    appendix = '--appendix' in sys.argv[3:]
    with open(sys.argv[1], encoding='utf-8') as f:
        lines = f.readlines()
    try:
        # the first heading gets the file's name as its anchor: <<campaigns>> refers to campaigns.md
        adoc = convert(lines, level_offset, re.sub(r'[^a-z0-9-]', '-', sys.argv[1].split('/')[-1][:-3].lower()),
                       appendix)
    except ValueError as e:
        sys.exit('%s: %s' % (sys.argv[1], e))
    with open(sys.argv[2], 'w', encoding='utf-8') as f:
        f.write('// generated from %s by md2adoc.py: edit the Markdown, not this\n\n' % sys.argv[1].split('/')[-1])
        f.write(adoc)


if __name__ == '__main__':
    main()
