"""``stabfix completion bash|zsh|fish``: print the shell completion script (click's own).

The script calls ``stabfix`` back with ``_STABFIX_COMPLETE=<shell>_complete`` at each TAB; the
output is the same as ``_STABFIX_COMPLETE=<shell>_source stabfix``.
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
HOW = {
    "bash": 'eval "$(stabfix completion bash)"        # in ~/.bashrc',
    "zsh": 'eval "$(stabfix completion zsh)"         # in ~/.zshrc',
    "fish": "stabfix completion fish > ~/.config/fish/completions/stabfix.fish",
}


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def command(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(stabfix completion bash)"   (in ~/.bashrc)
    zsh:   eval "$(stabfix completion zsh)"    (in ~/.zshrc)
    fish:  stabfix completion fish > ~/.config/fish/completions/stabfix.fish
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"click has no completion for {shell}")
    root = ctx.find_root()
    comp = cls(root.command, {}, "stabfix", "_STABFIX_COMPLETE")
    click.echo(comp.source())
