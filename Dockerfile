# trustpay-webhooks: build with the Swift toolchain, run on a slim Debian.
#   docker build -t trustpay-webhooks .
#   docker run -p 8080:8080 -e TRUSTPAY_SECRET=… -v tp-data:/srv/trustpay-webhooks/data trustpay-webhooks
# TLS: mount the PEM files (e.g. -v ./tls:/srv/trustpay-webhooks/tls:ro) and
# point server.tls.certificate / server.tls.key at them in your config.

# Debian package versions are not pinned (hadolint DL3008, ignored in both
# stages): bookworm's archive keeps only the current version of each package,
# so a pin such as libssl3=3.0.15-1~deb12u1 breaks the build the day Debian
# ships the next security fix, the very update we want. What is fixed is the
# suite (bookworm, through the base images' tags); the packages follow its
# security updates at every build.
FROM swift:6.3-bookworm AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev libsqlite3-dev libjemalloc-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
# Package.swift declares the fuzz targets too; SwiftPM refuses a package
# whose target folders are missing, even to build one product.
COPY fuzz/targets ./fuzz/targets
RUN swift build -c release --product trustpay-webhooks --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/trustpay-webhooks" /usr/local/bin/

FROM debian:bookworm-slim
# A numeric user and group (hadolint DL3066): Kubernetes' runAsNonRoot can
# only verify a numeric USER, and the volume's files are owned by 10001 on
# the host too.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 libsqlite3-0 libjemalloc2 libcurl4 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 trustpay \
    && useradd --system --uid 10001 --gid 10001 --home-dir /srv/trustpay-webhooks trustpay
WORKDIR /srv/trustpay-webhooks
COPY --from=build /usr/local/bin/trustpay-webhooks /usr/local/bin/trustpay-webhooks
COPY config ./config
RUN mkdir -p data tls && chown trustpay:trustpay data
VOLUME ["/srv/trustpay-webhooks/data"]
USER 10001:10001
# Inside a container the server must listen beyond loopback.
ENV TRUSTPAY_WEBHOOKS__SERVER__HOST=0.0.0.0
EXPOSE 8080
# Exec form (hadolint DL3025) of the shell command it always was: Docker
# reads exit status 1 as unhealthy and reserves 2, so curl's own codes
# (7, 22, 28, ...) are folded into 1.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD ["/bin/sh", "-c", "curl -fsS http://127.0.0.1:8080/healthz || exit 1"]
ENTRYPOINT ["trustpay-webhooks"]
# The embedded defaults (config/default.yaml, compiled in) resolve data/ from
# the working directory, which is the volume. A mounted --config file
# resolves its relative paths from its own folder: give it absolute ones
# under /srv/trustpay-webhooks/data.
CMD ["serve"]
