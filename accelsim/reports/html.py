"""One self-contained HTML page: inline CSS, figures as base64 PNG, no scripts, no links out.

The page opens the same offline, mailed as an attachment or archived years
later: nothing it shows is fetched from anywhere.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field

from accelsim.reports.table import Table

CSS = """
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; margin-top: 2em; }
h3 { font-size: 1.05em; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .4em 0 1.2em; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 2px 6px; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.r { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
.note { color: #555; font-size: 12px; margin: 0 0 .3em; }
.scroll { overflow-x: auto; }
figure { margin: .5em 0 1.5em; } figcaption { color: #555; font-size: 12px; }
img { max-width: 100%; height: auto; }
nav ul { columns: 2; } code { background: #f3f3f3; padding: 0 3px; }
"""


@dataclass
class Section:
    """A heading and its content blocks (already-escaped HTML strings)."""

    title: str
    blocks: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")


def table_html(table: Table) -> str:
    align = table.align().ljust(len(table.headers), "l")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = "\n".join("<tr>" + "".join(f'<td class="{a}">{html.escape(c)}</td>' for a, c in zip(align, row)) + "</tr>"
                     for row in table.cells())
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return (f"<h3>{html.escape(table.title)}</h3>{note}<div class=\"scroll\"><table><thead><tr>{head}</tr></thead>"
            f"<tbody>\n{body}\n</tbody></table></div>")


def figure_html(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    alt = html.escape(caption, quote=True)
    return (f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def page(title: str, intro: list[str], sections: list[Section]) -> str:
    """The whole document: title, intro paragraphs, a table of contents, the sections."""
    toc = "".join(f'<li><a href="#{s.anchor}">{html.escape(s.title)}</a></li>' for s in sections)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>", *(paragraph(p) for p in intro),
        f"<nav><ul>{toc}</ul></nav>",
    ]
    for s in sections:
        parts.append(f'<h2 id="{s.anchor}">{html.escape(s.title)}</h2>')
        parts.extend(s.blocks)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
