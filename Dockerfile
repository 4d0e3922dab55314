# syntax=docker/dockerfile:1
#
# One image for every Folio service: `folio serve --only <service>` picks which one a
# container runs (see docker-compose.yml). Build with `docker build -t folio .`.

# ---- build -------------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# The cache mounts keep the crates.io index and compiled dependencies between builds;
# the binary is copied out because the target directory lives only in the cache.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin folio \
    && cp target/release/folio /usr/local/bin/folio

# ---- runtime -----------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# An unprivileged user (UID/GID 10001, as deploy/kubernetes runs it) owns /data, so a
# named volume mounted there is writable.
RUN groupadd --system --gid 10001 folio \
    && useradd --system --uid 10001 --gid folio --home-dir /data --shell /usr/sbin/nologin folio \
    && mkdir /data && chown folio:folio /data
COPY --from=build /usr/local/bin/folio /usr/local/bin/folio
USER folio
WORKDIR /data
# Generated keys (and SQLite files, when no database URL is set) go here.
ENV FOLIO_DATA_DIR=/data
VOLUME ["/data"]
# Router, users, content, interactions, search, shop, media.
EXPOSE 4000 4001 4002 4003 4004 4005 4006
ENTRYPOINT ["folio"]
CMD ["serve"]
