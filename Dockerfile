# planledger in a container: a multi-stage build, a small non-root runtime image.
#
#   docker build -t planledger .
#   docker run --rm -v planledger-data:/var/lib/planledger planledger init
#   docker run --rm -v planledger-data:/var/lib/planledger planledger verify --json
#
# The ledger lives in the volume at /var/lib/planledger/ledger (PLANLEDGER_LEDGER), or
# give --ledger a postgres:// URL. Not built in CI.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin planledger \
 && strip target/release/planledger

FROM debian:bookworm-slim
# A fixed uid, so that volume permissions can be prepared on the host.
RUN groupadd --system --gid 10001 planledger \
 && useradd --system --uid 10001 --gid planledger --home-dir /var/lib/planledger \
      --create-home --shell /usr/sbin/nologin planledger \
 && chmod 0700 /var/lib/planledger
COPY --from=build /src/target/release/planledger /usr/local/bin/planledger
COPY LICENSE-MIT LICENSE-APACHE README.md /usr/share/doc/planledger/
USER planledger:planledger
WORKDIR /var/lib/planledger
ENV PLANLEDGER_LEDGER=/var/lib/planledger/ledger
VOLUME ["/var/lib/planledger"]
ENTRYPOINT ["/usr/local/bin/planledger"]
CMD ["--help"]
