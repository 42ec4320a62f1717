# The `concord` binary in a small runtime image: `docker compose up` builds it.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p concord-server --locked && cp target/release/concord /concord

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/concord --create-home concord
COPY --from=build /concord /usr/local/bin/concord
USER concord
WORKDIR /var/lib/concord
ENV CONCORD_DATA_DIR=/var/lib/concord CONCORD_BIND=0.0.0.0:8080 CONCORD_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["concord"]
CMD ["serve"]
