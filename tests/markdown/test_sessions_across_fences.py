"""A runbook is typed into one terminal (issue 11 §4): a shell another user's login opens in
one fence (`sudo -i -u mastodon`, `su - app`) and no `exit` yet holds the commands of the
next fences too — "(still in ~/live, in the same session)". Run by the runner as its own
user in its own directory, `git checkout v4.3.2` and `rails db:migrate` would act on the
wrong checkout and database (blind round 12, j). They are a person's steps until an `exit`
closes that shell (shellparse.py ``sessions``). A way back that types into such a shell is
done by a person: the rollback pauses and asks, instead of restarting the old services
around new code and reporting "rolled back"."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import CLI
from tests.markdown.cases_harness import import_case
from tests.markdown.plan_walk import imported, manual_texts, runs_forward

OPENERS = ["sudo -i -u mastodon", "sudo -iu app", "sudo su - deploy", "su - app", "sudo -i"]


def _forward_doc(opener: str) -> str:
    return textwrap.dedent(
        f"""\
        # Upgrade

        ## 1. Become the app user

        ```bash
        {opener}
        cd ~/live
        ```

        ## 2. Update the code (same session)

        ```bash
        git checkout v4.3.2
        bundle exec rails db:migrate
        ```

        ## 3. Restart as root

        ```bash
        exit
        sudo systemctl restart app-web
        ```
        """
    )


@pytest.mark.parametrize("opener", OPENERS)
def test_commands_after_a_login_shell_left_open_are_a_persons_until_exit(opener: str) -> None:
    data = imported(_forward_doc(opener)).data
    for command in ("cd ~/live", "git checkout v4.3.2", "bundle exec rails db:migrate"):
        assert not runs_forward(data, command), (command, data)
        assert any(command in text and opener in text for text in manual_texts(data)), (
            command,
            manual_texts(data),
        )
    # `exit` closes that shell: the restart is the runner's again, and runs
    assert runs_forward(data, "sudo systemctl restart app-web"), data


def test_an_ssh_session_left_open_is_not_carried_to_later_fences() -> None:
    """`ssh bastion` left open is most often where location-free commands are run from
    (`aws …`); within its own fence the lines after it are a person's, as before."""
    doc = textwrap.dedent(
        """\
        # Failover

        ## 1. Bastion

        ```bash
        ssh bastion.prod
        redis-cli -h cache-04 info replication
        ```

        ## 2. Repoint

        ```bash
        consul kv put config/cache/primary cache-04.prod:6379
        ```
        """
    )
    data = imported(doc).data
    assert not runs_forward(data, "redis-cli -h cache-04 info replication")
    assert runs_forward(data, "consul kv put config/cache/primary cache-04.prod:6379")


def test_a_rollback_fence_starts_with_no_shell_open() -> None:
    """A way back is read when things went wrong, from a terminal of its own: the forward
    path's open `sudo -i -u app` does not make the rollback's commands a person's."""
    doc = _forward_doc("sudo -i -u app").replace("exit\n", "") + textwrap.dedent(
        """\

        ## Rollback

        ```bash
        sudo systemctl restart app-web-old
        ```
        """
    )
    data = imported(doc).data
    actions = [a for p in data["phases"] for a in p.get("rollback", []) if a.get("run")]
    actions += [a for a in data.get("rollback", []) if a.get("run")]
    assert any("app-web-old" in str(a["run"]) for a in actions), data


ROLLBACK_DOC = textwrap.dedent(
    """\
    # Upgrade

    ## 1. Deploy

    ```bash
    echo deployed >> log.txt
    ```

    ## 2. Check

    ```bash
    test -f healthy-marker
    ```

    ## Rollback

    ```bash
    sudo -i -u mastodon
    cd ~/live
    git checkout v4.3.1
    exit
    echo restarted >> log.txt
    ```
    """
)


def test_a_way_back_typed_in_another_users_shell_is_a_decision_a_person_answers() -> None:
    data = imported(ROLLBACK_DOC).data
    decisions = [p["rollback_decision"] for p in data["phases"] if "rollback_decision" in p]
    assert len(decisions) == 1, data["phases"]
    described = data["vars"][decisions[0]["var"]]["description"]
    assert "git checkout v4.3.1" in described and "sudo -i -u mastodon" in described, described
    runs = [str(a["run"]) for p in data["phases"] for a in p.get("rollback", []) if a.get("run")]
    # the checkout is never run as this user here; what the document runs after `exit` stays
    assert not any(
        line.strip() == "git checkout v4.3.1" for run in runs for line in run.splitlines()
    ), runs
    assert any("echo restarted >> log.txt" in run for run in runs), runs


def test_a_failed_run_pauses_for_that_person_before_the_rest_of_the_way_back(cli: CLI) -> None:
    imp = import_case(cli, "doc.md", ROLLBACK_DOC)
    assert imp.returncode == 0, imp.stderr
    ran = imp.run("--yes")
    assert ran.returncode == 4, ran.stdout + ran.stderr  # paused for a person, not rolled back
    assert "paused" in ran.stdout, ran.stdout
    # nothing of the way back ran before the person answered
    assert (cli.cwd / "log.txt").read_text().split() == ["deployed"]
