"""Benign background logs of node-2's heavy services: llama-server, Loki, Qdrant, Postgres, Alloy."""

from __future__ import annotations

import random

from loglens.sources.demo_cluster import NODE_IPS, Clock, Cluster, Stream, between, hex_id


def llama_server(cl: Cluster) -> Stream:
    pod = cl["llama-server"]
    node_ip = NODE_IPS[pod.node]
    caller = cl["loglens"].ip
    state = {"task": 0, "step": 0, "prompt": 0, "gen": 0}

    def health(r: random.Random, c: Clock) -> str:
        return f"srv  log_server_r: request: GET /health {node_ip} 200"

    def task_step(r: random.Random, c: Clock) -> str:
        # One completion walks through these lines in order, like the real server.
        step = state["step"]
        state["step"] = (step + 1) % 8
        task = state["task"]
        if step == 0:
            state["task"] = task = task + r.randint(1, 3)
            state["prompt"] = r.randint(300, 3800)
            state["gen"] = r.randint(40, 600)
            return f"slot launch_slot_: id  0 | task {task} | processing task"
        prompt, gen = state["prompt"], state["gen"]
        if step == 1:
            return (
                f"slot update_slots: id  0 | task {task} | new prompt, n_ctx_slot = 8192, "
                f"n_keep = 0, n_prompt_tokens = {prompt}"
            )
        if step == 2:
            return (
                f"slot update_slots: id  0 | task {task} | prompt done, n_past = {prompt}, "
                f"n_tokens = {prompt}"
            )
        if step == 3:
            ms = prompt * 0.55
            return (
                f"prompt eval time = {ms:10.2f} ms / {prompt:5d} tokens ({ms / prompt:8.2f} ms "
                f"per token, {prompt / ms * 1000:8.2f} tokens per second)"
            )
        if step == 4:
            ms = gen * 23.4
            return (
                f"       eval time = {ms:10.2f} ms / {gen:5d} tokens ({ms / gen:8.2f} ms "
                f"per token, {gen / ms * 1000:8.2f} tokens per second)"
            )
        if step == 5:
            return (
                f"slot      release: id  0 | task {task} | stop processing: "
                f"n_past = {prompt + gen}, truncated = 0"
            )
        if step == 6:
            return "srv  update_slots: all slots are idle"
        return f"srv  log_server_r: request: POST /v1/chat/completions {caller} 200"

    return Stream("llama-server", pod.labels(), 3.0, ((0.35, health), (0.65, task_step)))


def loki(cl: Cluster) -> Stream:
    pod = cl["loki"]
    queries = (
        '{namespace=\\"llm\\"} |= \\"error\\"',
        '{container=\\"api\\"}',
        '{node=\\"node-2\\"}',
    )

    def query(r: random.Random, c: Clock) -> str:
        return (
            f"level=info ts={c.rfc3339_ns} caller=metrics.go:237 component=frontend org_id=fake "
            f'latency=fast query="{r.choice(queries)}" query_hash={r.randint(10**8, 4 * 10**9)} '
            f"query_type=filter range_type=range length=1h0m0s step=14s "
            f"duration={between(r, 4, 300):.2f}ms status=200 limit=1000 "
            f"returned_lines={r.randint(0, 1000)} throughput={r.randint(2, 90)}MB "
            f"total_bytes={r.randint(1, 40)}MB"
        )

    def flush(r: random.Random, c: Clock) -> str:
        return (
            f"level=info ts={c.rfc3339_ns} caller=flush.go:309 component=ingester "
            f'msg="flushing stream" user=fake fp={hex_id(r, 16)} immediate=false '
            f"num_chunks={r.randint(1, 3)} total_comp={r.randint(10, 900)} kB "
            f"avg_comp={r.randint(10, 300)} kB"
        )

    def table(r: random.Random, c: Clock) -> str:
        return (
            f"level=info ts={c.rfc3339_ns} caller=table_manager.go:136 "
            'index-store=tsdb-2024-04-01 msg="uploading tables"'
        )

    def canceled(r: random.Random, c: Clock) -> str:
        return (
            f"level=error ts={c.rfc3339_ns} caller=retry.go:95 org_id=fake "
            'msg="error processing requests from scheduler" '
            'err="rpc error: code = Canceled desc = context canceled"'
        )

    return Stream(
        "loki",
        pod.labels(),
        4.0,
        ((0.5, query), (0.4, flush), (0.07, table), (0.03, canceled)),
    )


def qdrant(cl: Cluster) -> Stream:
    pod = cl["qdrant"]
    caller = cl["loglens"].ip

    def request(r: random.Random, c: Clock) -> str:
        route = r.choice(
            (
                "POST /collections/loglens_incidents/points/query",
                "POST /collections/loglens_patterns/points/query",
                "PUT /collections/loglens_patterns/points?wait=true",
                "GET /healthz",
            )
        )
        return (
            f'{c.rfc3339_us}  INFO actix_web::middleware::logger: {caller} "{route} HTTP/1.1" '
            f'200 {r.randint(60, 4000)} "-" "python-httpx/0.28.1" {r.random() * 0.02:.6f}'
        )

    def optimizer(r: random.Random, c: Clock) -> str:
        return (
            f"{c.rfc3339_us}  INFO collection::collection_manager::optimizers::segment_optimizer: "
            f"Optimizing segments: {r.randint(2, 6)} segments into 1, loglens_patterns"
        )

    return Stream("qdrant", pod.labels(), 2.0, ((0.95, request), (0.05, optimizer)))


def postgres(cl: Cluster) -> Stream:
    pod = cl["postgres"]
    caller = cl["loglens"].ip

    def connection(r: random.Random, c: Clock) -> str:
        pid = r.randint(1000, 32000)
        if r.random() < 0.5:
            port = r.randint(32768, 60999)
            return f"{c.postgres} [{pid}] LOG:  connection received: host={caller} port={port}"
        return (
            f"{c.postgres} [{pid}] LOG:  connection authorized: user=loglens database=loglens "
            "application_name=loglens-api"
        )

    def checkpoint(r: random.Random, c: Clock) -> str:
        if r.random() < 0.5:
            return f"{c.postgres} [61] LOG:  checkpoint starting: time"
        buffers = r.randint(5, 400)
        return (
            f"{c.postgres} [61] LOG:  checkpoint complete: wrote {buffers} buffers "
            f"({buffers / 160:.1f}%); 0 WAL file(s) added, 0 removed, 0 recycled; "
            f"write={between(r, 0.1, 30):.3f} s, sync=0.004 s, total={between(r, 0.1, 30):.3f} s; "
            f"sync files={r.randint(2, 40)}, longest=0.002 s, average=0.001 s; "
            f"distance={r.randint(20, 900)} kB, estimate={r.randint(300, 900)} kB"
        )

    def reset(r: random.Random, c: Clock) -> str:
        # Benign: a client killed mid-connection (pod restart, probe).
        return (
            f"{c.postgres} [{r.randint(1000, 32000)}] LOG:  could not receive data from client: "
            "Connection reset by peer"
        )

    return Stream(
        "postgres", pod.labels(), 1.0, ((0.8, connection), (0.17, checkpoint), (0.03, reset))
    )


def alloy(cl: Cluster, key: str) -> Stream:
    pod = cl[key]

    def evaluation(r: random.Random, c: Clock) -> str:
        node = r.choice(("prometheus.scrape.pods", "discovery.kubernetes.pods", "loki.process.k8s"))
        return (
            f'ts={c.rfc3339_ns} level=info msg="finished node evaluation" controller_path=/ '
            f'controller_id="" node_id={node} duration={between(r, 0.01, 2):.6f}ms'
        )

    def tailer(r: random.Random, c: Clock) -> str:
        return (
            f'ts={c.rfc3339_ns} level=info msg="opened log stream" '
            "component_path=/ component_id=loki.source.kubernetes.pods "
            f"target={r.choice(('llm', 'db', 'monitoring'))}/{hex_id(r, 6)}:main "
            f"start_time={c.iso}Z"
        )

    def retry(r: random.Random, c: Clock) -> str:
        # Benign: a slow push that the next attempt delivers.
        return (
            f'ts={c.rfc3339_ns} level=warn msg="error sending batch, will retry" '
            'component_path=/ component_id=loki.write.default status=-1 tenant="" '
            'error="Post \\"http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/push\\": '
            'context deadline exceeded"'
        )

    return Stream(key, pod.labels(), 1.0, ((0.7, evaluation), (0.28, tailer), (0.02, retry)))
