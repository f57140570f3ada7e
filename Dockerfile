# The one glasslog binary, built in a full Rust image and shipped in a slim Debian one.
# docker build -t glasslog .
FROM rust:1-bookworm AS build
# RocksDB's bindings are generated with bindgen, which needs libclang.
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang libclang-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p glasslog \
 && install -m 0755 target/release/glasslog /usr/local/bin/glasslog

FROM debian:bookworm-slim
# One unprivileged user owns every directory a volume is mounted on, so named volumes start
# out writable by it (Docker copies the mount point's ownership into a new volume).
RUN useradd --system --home-dir /var/lib/glasslog --shell /usr/sbin/nologin glasslog \
 && mkdir -p /var/lib/glasslog/data /var/lib/glasslog/keys /var/lib/glasslog/public \
             /var/lib/glasslog/witness /var/lib/glasslog/monitor /etc/glasslog \
 && chown -R glasslog:glasslog /var/lib/glasslog
COPY --from=build /usr/local/bin/glasslog /usr/local/bin/glasslog
COPY deploy/glasslog.toml /etc/glasslog/glasslog.toml
USER glasslog
WORKDIR /var/lib/glasslog
EXPOSE 8080 8081
ENTRYPOINT ["glasslog"]
CMD ["serve", "--config", "/etc/glasslog/glasslog.toml"]
