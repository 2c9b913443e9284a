"""agent.web.markup, the one safe-HTML type: values are escaped once where they meet a template,
HTML (Markup) is never escaped again, and templates are literals everywhere in agent/."""

from __future__ import annotations

import ast
import html as stdlib_html
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.web.markup import Markup, bar, facts, html, join, table
from agent.web.text import t, when

ROOT = Path(__file__).resolve().parents[2]


def test_a_value_is_escaped_once_and_markup_is_kept() -> None:
    assert html("<td>{}</td>", "<b>R&D &amp;</b>") == "<td>&lt;b&gt;R&amp;D &amp;amp;&lt;/b&gt;</td>"
    assert html("<td>{}</td>", Markup("<b>x</b>")) == "<td><b>x</b></td>"
    assert html('<td class="{}">{:.1f}</td>', '"x', 2.25) == '<td class="&#34;x">2.2</td>'
    nested = html("<tr>{}</tr>", html("<td>{}</td>", "&"))
    assert nested == "<tr><td>&amp;</td></tr>" and isinstance(nested, Markup)


def test_joining_escapes_plain_text_but_not_fragments() -> None:
    assert join([Markup("<td>a</td>"), "<b>"]) == "<td>a</td>&lt;b&gt;"
    assert join(["a", "b"], "<br>") == "a<br>b"
    # the pitfall join exists for: str.join gives a plain str, which the next template escapes
    plain = "".join([html("<td>{}</td>", "x")])
    assert html("<tr>{}</tr>", plain) == "<tr>&lt;td&gt;x&lt;/td&gt;</tr>"


def test_text_helpers_return_text_not_html() -> None:
    assert t("en", "中", "<b> & </b>") == "<b> & </b>" and t("zh", "甲&乙", "x") == "甲&乙"
    assert not isinstance(when(0.0), Markup) and when(None) == "—"


def test_table_helpers_escape_their_labels_and_ids() -> None:
    out = table('t"1', "en", [("中", "<Name>")], [html("<tr><td>{}</td></tr>", "x")])
    head = '<table id="t&#34;1"><thead><tr><th>&lt;Name&gt;</th></tr></thead>'
    assert out == head + "<tbody><tr><td>x</td></tr></tbody></table>"
    assert "<td>&lt;i&gt;</td>" in facts("f", "zh", [("标签", "label", "<i>")])
    assert 'class="bar crit" data-percent="95.0"' in bar(95.0)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_reads_back_as_itself_from_a_cell_and_an_attribute(value: str) -> None:
    cell = html('<td data-v="{}">{}</td>', value, value)
    attribute, text = str(cell).removeprefix('<td data-v="').removesuffix("</td>").split('">', 1)
    assert stdlib_html.unescape(attribute) == value and stdlib_html.unescape(text) == value
    assert "<" not in attribute + text and '"' not in attribute + text


def _not_literal_templates(path: Path) -> Iterator[str]:
    """Calls of html()/join()/Markup() from agent.web.markup whose template is not a literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: dict[str, int] = {}  # local name -> index of the template argument
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("agent.web.markup", "markupsafe"):
            for alias in node.names:
                index = {"html": 0, "Markup": 0, "join": 1}.get(alias.name)
                if index is not None:
                    names[alias.asname or alias.name] = index
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            args = list(node.args) + [k.value for k in node.keywords if k.arg in ("template", "sep")]
            index = names[node.func.id]
            if len(args) > index:
                arg = args[index]
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    yield f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{node.lineno}"


def test_every_template_in_agent_is_a_literal() -> None:
    modules = sorted((ROOT / "agent").rglob("*.py"))
    users = [p for p in modules if "agent.web.markup import" in p.read_text(encoding="utf-8")]
    assert len(users) >= 10, users  # the status page, its sections and the reports
    assert [hit for path in modules if path.name != "markup.py" for hit in _not_literal_templates(path)] == []


def test_the_template_check_sees_a_formatted_template(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from agent.web.markup import Markup, html, join\n"
        "def f(x: str, sep: str) -> None:\n"
        "    html(f'<td>{x}</td>')\n    html('<td>' + x + '</td>')\n    Markup(x)\n    join([], sep)\n"
        "    html('<td>{}</td>', x)\n    join([], '<br>')\n",
        encoding="utf-8",
    )
    assert [hit.rsplit(":", 1)[1] for hit in _not_literal_templates(bad)] == ["3", "4", "5", "6"]


def test_only_the_markup_module_escapes_html() -> None:
    """No second way to escape: no html.escape, no markupsafe import outside agent.web.markup."""
    wrong = []
    for path in sorted((ROOT / "agent").rglob("*.py")):
        if path.name == "markup.py" and path.parent.name == "web":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("html", "markupsafe"):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Import) and any(a.name in ("html", "markupsafe") for a in node.names):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert wrong == []
