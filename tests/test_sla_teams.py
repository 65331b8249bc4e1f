"""Teams, channels and alert settings in the SLA file (issue 17): each mistake is one line
naming its key, and a channel's URL never sits in the file, only the variable holding it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.sla import SLAError, parse_sla
from tests.tiny_crm import BASE_SLA

TEAMS = {
    "inbound": {
        "manager": "Maria@Acme.example",
        "reps": ["Ana@acme.example ", "bruno@acme.example"],
        "notify": ["inbound-slack"],
    },
    "outbound": {"manager": "joao@acme.example", "reps": ["carla@acme.example"]},
}
CHANNELS = {"inbound-slack": {"url_env": "SLA_AUDIT_INBOUND_SLACK"}}


def sla_with(**blocks: object):
    return parse_sla({**BASE_SLA, **blocks}, "sla.yaml")


def problems_of(**blocks: object) -> list[str]:
    with pytest.raises(SLAError) as caught:
        sla_with(**blocks)
    return caught.value.problems


def test_teams_are_read_with_emails_lower_cased():
    sla = sla_with(teams=TEAMS, channels=CHANNELS, alerts={"at_risk_within": "45m"})
    assert sla.teams["inbound"].manager == "maria@acme.example"
    assert sla.teams["inbound"].reps == ["ana@acme.example", "bruno@acme.example"]
    assert sla.team_of("ANA@acme.example") == "inbound"
    assert sla.team_of("zoe@acme.example") is None
    assert sla.channels["inbound-slack"].url_env == "SLA_AUDIT_INBOUND_SLACK"
    assert sla.alerts.at_risk_within == timedelta(minutes=45)
    assert sla.alerts.quiet_outside_business_hours is True


def test_no_teams_is_the_default():
    sla = sla_with()
    assert (sla.teams, sla.channels, sla.alerts.at_risk_within) == ({}, {}, timedelta(minutes=30))


def test_a_rep_in_two_teams_and_an_unknown_channel_are_named():
    teams = {
        **TEAMS,
        "outbound": {
            "manager": "joao@acme.example",
            "reps": ["carla@acme.example", "bruno@acme.example"],
            "notify": ["outbound-teams"],
        },
    }
    assert problems_of(teams=teams, channels=CHANNELS) == [
        "teams.outbound.reps[1]: bruno@acme.example is already in team inbound; a rep "
        "belongs to one team",
        "teams.outbound.notify[0]: 'outbound-teams' is not a channel of this file (channels: "
        "inbound-slack); declare it under channels: with its url_env",
    ]


@pytest.mark.parametrize(
    ("blocks", "line"),
    [
        (
            {"teams": {"a": {"manager": "maria", "reps": ["ana@acme.example"]}}},
            'teams.a.manager: "maria" is not an email address',
        ),
        (
            {"teams": {"a": {"manager": "m@acme.example", "reps": []}}},
            "teams.a.reps:",
        ),
        (
            {"channels": {"x": {"url_env": "https://hooks.slack.com/services/T0/B0/secret"}}},
            'channels.x.url_env: "https://hooks.slack.com/services/T0/B0/secret" is not an '
            "environment variable name",
        ),
        ({"channels": {"x": {"url": "json://h"}}}, "channels.x.url"),
        ({"alerts": {"at_risk_within": 30}}, "alerts.at_risk_within:"),
    ],
)
def test_each_mistake_is_one_line_naming_its_key(blocks, line):
    problems = problems_of(**blocks)
    assert any(problem.startswith(line) for problem in problems), problems


def test_a_reps_own_channels_add_to_the_teams_for_their_leads():
    teams = {
        **TEAMS,
        "inbound": {**TEAMS["inbound"], "rep_notify": {"ANA@acme.example": ["ana-mail"]}},
    }
    channels = {**CHANNELS, "ana-mail": {"url_env": "SLA_AUDIT_ANA_MAIL"}}
    team = sla_with(teams=teams, channels=channels).teams["inbound"]
    assert team.channels_for("ana@acme.example") == ["inbound-slack", "ana-mail"]
    assert team.channels_for("bruno@acme.example") == ["inbound-slack"]


def test_rep_notify_names_a_rep_of_the_team_and_declared_channels():
    teams = {
        **TEAMS,
        "inbound": {
            **TEAMS["inbound"],
            "rep_notify": {"carla@acme.example": ["inbound-slack"], "ana@acme.example": ["x"]},
        },
    }
    assert problems_of(teams=teams, channels=CHANNELS) == [
        "teams.inbound.rep_notify.carla@acme.example: carla@acme.example is not one of team "
        "inbound's reps; add them to reps or remove the line",
        "teams.inbound.rep_notify.ana@acme.example[0]: 'x' is not a channel of this file "
        "(channels: inbound-slack); declare it under channels: with its url_env",
    ]
