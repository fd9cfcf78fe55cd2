"""``stabfix demo``: dry-run every fixer on a temporary copy of the embedded sample repository.

Nothing of the user's is touched: the sample is copied to a new temporary folder (made a git
repository with one commit, as real repositories are) and each fixer that declares a DemoSpec runs
there in ``diff`` mode. The diffs are printed, one section per fixer.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from codemods.core.contract import Fixer

SAMPLE = Path(__file__).parent / "sample_repo"


def sample_path() -> Path:
    """Where the embedded sample repository lives (inside the installed package)."""
    return SAMPLE


def copy_sample(dest: Path, *, git: bool = True) -> Path:
    """Copy the sample repository to ``dest`` (created) and optionally commit it with git."""
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))
    if git and shutil.which("git"):
        env_cmds = [
            ["git", "init", "-q", "-b", "main"],
            ["git", "add", "-A"],
            ["git", "-c", "user.name=stabfix demo", "-c", "user.email=demo@stabfix.invalid",
             "commit", "-q", "-m", "sample repository"],
        ]
        for cmd in env_cmds:
            subprocess.run(cmd, cwd=dest, check=True, capture_output=True)
    return dest


def run_demo(*, keep: bool = False, only: list[str] | None = None) -> int:
    """Run the demo; returns the exit code (2 if any fixer failed on the sample)."""
    from codemods import api
    from codemods.core import registry
    from codemods.errors import StabfixError

    try:
        registry.check_names(only or [])
    except StabfixError as exc:
        click.echo(exc.one_line(), err=True)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="stabfix-demo-"))
    repo = copy_sample(tmp / "litellm")
    worst = 0
    try:
        click.echo(f"# stabfix demo: a copy of the sample repository in {repo}")
        click.echo("# every fixer runs in dry-run (--diff) mode; nothing is written\n")
        for name in registry.names():
            if only and name not in only:
                continue
            cls = registry.load(name)
            spec = cls.demo
            if spec is None:
                click.echo(f"# {name}: no demo (see `stabfix apply {name} --help`)\n")
                continue
            click.echo(f"$ {command_line(name, cls)}")
            if spec.note:
                click.echo(f"# {spec.note}")
            try:
                report = api.apply(name, spec.paths or None, root=repo, mode="diff", options=spec.options)
            except StabfixError as exc:
                click.echo(exc.one_line() + "\n")
                worst = 2
                continue
            click.echo(report.diff, nl=False)
            click.echo(report.summary() + "\n")
            worst = max(worst, 2 if report.failed else 0)
    finally:
        if keep:
            click.echo(f"# kept {repo}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return worst


def command_line(name: str, cls: type[Fixer]) -> str:
    """The ``stabfix apply`` command line the demo runs for fixer ``cls`` (its :class:`DemoSpec`),
    e.g. ``stabfix apply xdist-group tests/x.py --group heavy --diff``. Also shown in docs/fixers."""
    from codemods.core import options

    spec = cls.demo
    if spec is None:
        raise ValueError(f"fixer {name!r} has no demo")
    flags = {o.name: o.flag for o in options.specs(cls.Options)}
    words = ["stabfix", "apply", name, *spec.paths]
    for key, value in spec.options.items():
        words += _flag(flags.get(key, "--" + key.replace("_", "-")), value)
    # shell-quoted as a whole: the line pastes into bash and zsh (node ids carry `[alice]`)
    return shlex.join([*words, "--diff"])


def _flag(flag: str, value: object) -> list[str]:
    if value is True:
        return [flag]
    if value is False or value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [word for v in value for word in (flag, str(v))]
    return [flag, str(value)]


@click.command("demo")
@click.option("--keep", is_flag=True, help="Keep the temporary copy and print its path.")
@click.option("--fixer", "fixers", multiple=True, help="Only these fixers (repeatable).")
def command(keep: bool, fixers: tuple[str, ...]) -> None:
    """Copy the embedded sample repository to a temporary folder and dry-run every fixer there."""
    raise SystemExit(run_demo(keep=keep, only=list(fixers)))
