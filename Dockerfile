# trustpay-webhooks: build with the Swift toolchain, run on a slim Debian.
#   docker build -t trustpay-webhooks .
#   docker run -p 8080:8080 -e TRUSTPAY_SECRET=… -v tp-data:/srv/trustpay-webhooks/data trustpay-webhooks
# TLS: mount the PEM files (e.g. -v ./tls:/srv/trustpay-webhooks/tls:ro) and
# point server.tls.certificate / server.tls.key at them in your config.

FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product trustpay-webhooks --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/trustpay-webhooks" /usr/local/bin/

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 libsqlite3-0 libcurl4 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /srv/trustpay-webhooks trustpay
WORKDIR /srv/trustpay-webhooks
COPY --from=build /usr/local/bin/trustpay-webhooks /usr/local/bin/trustpay-webhooks
COPY config ./config
RUN mkdir -p data tls && chown trustpay:trustpay data
VOLUME ["/srv/trustpay-webhooks/data"]
USER trustpay
# Inside a container the server must listen beyond loopback.
ENV TRUSTPAY_WEBHOOKS__SERVER__HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["trustpay-webhooks"]
# The embedded defaults (config/default.yaml, compiled in) resolve data/ from
# the working directory, which is the volume. A mounted --config file
# resolves its relative paths from its own folder: give it absolute ones
# under /srv/trustpay-webhooks/data.
CMD ["serve"]
