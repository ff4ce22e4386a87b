# Images for Cairn, built from Debian bookworm's packages only (no other registry):
#   podman build --target cairn          -t cairn:0.1.0 .           (tools/build-images.sh
#   podman build --target cairn-operator -t cairn-operator:0.1.0 .   builds both)
# `cairn` holds the server plus /bin/sh and etcdctl, because the operator starts members
# through a shell script (operator/resources/builders.cc) and e2e/run.sh runs etcdctl
# from it. `cairn-operator` holds the operator and runs as a non-root user, as
# deploy/operator/deployment.yaml requires.

FROM debian:bookworm AS build
# The project's own dependency list, so the image follows it when it changes.
COPY tools/install-deps.sh /src/tools/install-deps.sh
RUN /src/tools/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . /src
# Compiling is memory- and CPU-hungry; JOBS lets a shared machine build with fewer.
ARG JOBS=2
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j "$JOBS" --target cairn cairn-operator \
 && strip -o /cairn /build/server/cmd/cairn \
 && strip -o /cairn-operator /build/operator/cairn-operator

# Shared libraries both binaries link against (Debian's gRPC, Protobuf, yaml-cpp, spdlog).
FROM debian:bookworm AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libyaml-cpp0.7 libspdlog1.10 libssl3 \
 && rm -rf /var/lib/apt/lists/*

FROM runtime AS cairn-operator
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libcpprest2.10 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /cairn-operator /usr/local/bin/cairn-operator
# Fails the build, rather than the pod, if a shared library is missing.
RUN ! ldd /usr/local/bin/cairn-operator | grep 'not found'
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/cairn-operator"]

FROM runtime AS cairn
# SQLite holds the store; etcdctl is for the start script's users and e2e/run.sh.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-client libsqlite3-0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /cairn /usr/local/bin/cairn
RUN ! ldd /usr/local/bin/cairn | grep 'not found'
# The operator mounts the member's volume here; a plain `podman run` keeps data here too.
WORKDIR /var/lib/cairn
EXPOSE 2379 2380
CMD ["cairn", "--data-dir=/var/lib/cairn/data"]
