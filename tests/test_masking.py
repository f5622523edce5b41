"""Masking of variable tokens and tokenising of masked text."""

from __future__ import annotations

import pytest

from loglens.errors import ConfigError
from loglens.patterns.masking import Masker, MaskRule, collapse_wildcard_runs, is_word, tokenize


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Served block blk_-1608999687919862906 to /10.250.19.102", "Served block <*> to <*>"),
        ("src: /10.251.202.181:47130 dest: /10.251.202.181:50010", "src: <*> dest: <*>"),
        ("instance 5d2b3c1e-1f3a-4e4b-9c0d-0a1b2c3d4e5f deleted", "instance <*> deleted"),
        ("connect to proxy.cse.cuhk.edu.hk:5070 failed", "connect to <*> failed"),
        ("sent 1190 bytes (1.16 KB) in 00:02", "sent <*> in <*>"),
        ("at Wed Jun 29 03:22:22 2005 from host", "at <*> from host"),
        ("ts=2024-05-01T10:00:00.123Z level=info", "ts=<*> level=info"),
        ('acquire tag="AudioMix", uid=1041, ws=null', 'acquire tag="<*>", uid=<*>, ws=<*>'),
        ("pod api-7d9f8c6b5d-x2kqz restarted", "pod api-<*> restarted"),
        ("Failed password for root port 22 ssh2", "Failed password for root port <*> ssh2"),
        (
            "icache prefetch depth....................0",
            "icache prefetch depth....................<*>",
        ),
        ("retry at port 8030.", "retry at port <*>."),
        ("latency 12ms   took   0x1f", "latency <*> took <*>"),
        ("close, lifetime <1 sec", "close, lifetime <*>"),
        ('"GET /v2/servers/detail?all=True HTTP/1.1" status: 200', '"GET <*> <*>" status: <*>'),
        ("Error loading /home/x/run: invalid image", "Error loading <*>: invalid image"),
        (
            "copy [2017-07-03_15,47,15]-a.txt to /var/log/[2017-07-03_15,47,15]-a.txt",
            "copy [<*>,<*>,<*>]-a.txt to <*>",
        ),
        ("[file=/etc/xinetd.d/time] [line=18]", "[file=<*>] [line=<*>]"),
        ("job com.apple.sync://DB05-48/p11: skipped", "job <*>: skipped"),
        ("IPV6 Addr: 2607:f140:6000:8:c6b3:1ff:fecd:467f", "IPV6 Addr: <*>"),
        ("listen on ::1 and fe80::1ff:fe23", "listen on <*> and <*>"),
        ("BSSID changed to 5c:50:15:4c:ea:1c", "BSSID changed to <*>"),
        ("Old: msra-sa-41/10.1.2.3:9000 New: msra-sa-41:9000", "Old: <*> New: <*>"),
        ("state.clipTopAmount:180, i:0", "state.clipTopAmount:<*>, i:<*>"),
        ('{"revision":123,"ok":true}', '{"revision":<*>,"ok":<*>}'),
        ("actix_web::middleware::logger: done", "actix_web::middleware::logger: done"),
    ],
)
def test_default_masks_replace_variables(text: str, masked: str) -> None:
    assert Masker().mask(text) == masked


def test_words_without_digits_stay_constant() -> None:
    assert Masker().mask("VM Started (Lifecycle Event)") == "VM Started (Lifecycle Event)"


def test_user_rule_runs_before_defaults() -> None:
    masker = Masker([MaskRule("order", r"ORD-[A-Z0-9]+", "<order>")])
    assert masker.mask("order ORD-AB12 shipped") == "order <order> shipped"


def test_invalid_user_regex_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid regex"):
        Masker([MaskRule("broken", "(unclosed")])


def test_collapse_wildcard_runs_joins_lists_and_word_runs() -> None:
    assert collapse_wildcard_runs("args <*> <*> <*> done") == "args <*> done"
    assert collapse_wildcard_runs("from <*>,<*> GET") == "from <*> GET"


def test_tokenize_keeps_keys_and_delimiters_apart() -> None:
    tokens = tokenize("user=<*> (uid=<*>)")
    assert tokens == ("user", "=", "<*>", " ", "(", "uid", "=", "<*>", ")")
    assert [t for t in tokens if is_word(t)] == ["user", "<*>", "uid", "<*>"]
    assert "".join(tokens) == "user=<*> (uid=<*>)"
