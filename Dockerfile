# The node server (`kafu serve`) as a container image: the runtime only — no C/C++ compiler, no dev tools.
#
#   docker build -t kafu:0.1.0 .          # the tag `kafu kustomize build` uses by default (kafu:<version>)
#
# Stage 1 compiles the TypeScript and packs the package; stage 2 installs that package with its production
# dependencies (scripts/install-runtime.sh, which the tests run too) on a slim Node image, as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
# Optional dependencies are the compiler's (about 100 MB); the build accepts their absence.
RUN npm ci --omit=optional --no-audit --no-fund \
 && mkdir /pkg && npm pack --ignore-scripts --pack-destination /pkg \
 && cp package-lock.json scripts/install-runtime.sh /pkg/

FROM node:20-bookworm-slim
COPY --from=build /pkg /tmp/pkg
RUN sh /tmp/pkg/install-runtime.sh /tmp/pkg/kafu-*.tgz /tmp/pkg/package-lock.json /opt/kafu \
 && ln -s /opt/kafu/bin/kafu.js /usr/local/bin/kafu \
 && rm -rf /tmp/pkg /root/.npm \
 && mkdir -p /var/lib/kafu && chown 1000:1000 /var/lib/kafu
# The image's `node` user; numeric, so that Kubernetes can check runAsNonRoot.
USER 1000:1000
WORKDIR /var/lib/kafu
ENTRYPOINT ["kafu"]
CMD ["--help"]
