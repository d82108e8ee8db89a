"""Go templates for --format: the docker CLI's idioms, Go's printing and Go's errors."""

from __future__ import annotations

import pytest

from runtime_client.errors import TemplateFormatError
from runtime_client.templating import render_documents, render_rows

DOC = {
    "Name": "/web",
    "Config": {"Cmd": ["sh", "-c", "echo hi"], "Entrypoint": None, "Labels": {"b": "2", "a": "1"},
               "Env": ["A=1"], "Tty": False},
    "State": {"Running": True, "Pid": 42},
    "NetworkSettings": {"Networks": {"n2": {"IPAddress": "10.0.2.5"},
                                     "n1": {"IPAddress": "10.0.1.5"}}},
    "RepoTags": ["app:1", "app:latest"],
}


@pytest.mark.parametrize(("template", "expected"), [
    ("{{.Config.Cmd}}", "[sh -c echo hi]"),
    ("{{.Config.Entrypoint}}", "[]"),
    ("{{json .Config.Entrypoint}}", "null"),
    ("{{json .Config.Cmd}}", '["sh","-c","echo hi"]'),
    ("{{.Config.MacAddress}}", ""),
    ("{{index .RepoTags 0}}", "app:1"),
    ("{{len .RepoTags}} {{len .Config.Labels}}", "2 2"),
    ('{{join .RepoTags ", "}}', "app:1, app:latest"),
    ("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", "10.0.1.5 10.0.2.5 "),
    ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=2;"),
    ("{{range $i, $t := .RepoTags}}{{$i}}:{{$t}} {{end}}", "0:app:1 1:app:latest "),
    ("{{.Config.Labels}}", "map[a:1 b:2]"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{if not .Config.Tty}}no tty{{end}}", "no tty"),
    ("{{with .State}}{{.Pid}}{{end}}", "42"),
    ('{{if eq .Name "/web"}}yes{{else if .State.Running}}running{{end}}', "yes"),
    ("{{.Name | upper}} {{lower .Name}} {{title \"a b\"}}", "/WEB /web A B"),
    ('{{split "a:b" ":"}} {{index (split "a:b" ":") 1}}', "[a b] b"),
    ('{{printf "%s-%d" .Name .State.Pid}}', "/web-42"),
    ("{{- .Name -}}\n", "/web"),
    ("{{/* a comment */}}{{$n := .Name}}{{$n}}", "/web"),
    ("{{(index .NetworkSettings.Networks \"n1\").IPAddress}}", "10.0.1.5"),
    ("{{.Name}}\\t{{.State.Pid}}", "/web\t42"),
])
def test_docker_idioms(template: str, expected: str) -> None:
    assert render_documents(template, [DOC]) == expected + "\n"


@pytest.mark.parametrize(("template", "status", "message"), [
    ("{{.Nope}}", 1, 'template parsing error: template: :1:2: executing "" at <.Nope>: '
                     'map has no entry for key "Nope"'),
    ("{{.Config.Nope.X}}", 1, 'template: :1:9: executing "" at <.Config.Nope.X>: '
                              'map has no entry for key "Nope"'),
    ("{{index .RepoTags 5}}", 1, 'executing "" at <index .RepoTags 5>: error calling index: '
                                 "index out of range: 5"),
    ("{{.Name", 64, "template parsing error: template: :1: unclosed action"),
    ("{{nofunc .Name}}", 64, 'template: :1: function "nofunc" not defined'),
    ("{{if .Name}}x", 64, "template: :1: unexpected EOF"),
])
def test_errors_as_docker_words_them(template: str, status: int, message: str) -> None:
    with pytest.raises(TemplateFormatError) as caught:
        render_documents(template, [DOC])
    assert caught.value.exit_code == status
    assert message in str(caught.value)


def test_table_rows_with_headers() -> None:
    rows = [{"Names": "web", "Status": "Up 1 second"}, {"Names": "database", "Status": "Up"}]
    out = render_rows("table {{.Names}}\t{{.Status}}", rows, {"Names": "NAMES"})
    assert out == "NAMES      STATUS\nweb        Up 1 second\ndatabase   Up\n"
    with pytest.raises(TemplateFormatError, match="can't evaluate field Nope in type X"):
        render_rows("{{.Nope}}", rows, context="X")
