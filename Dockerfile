# Dray as a container: a build stage on Debian bookworm with the -dev packages, and a final
# stage from scratch holding only dray, its plugins, its web UI and the shared libraries they load.
#
#   scripts/build-image.sh      # also makes debian:bookworm offline when no registry is reachable
#   docker run -d --name dray -v /var/run/docker.sock:/var/run/docker.sock -p 3000:3000 dray
FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make libpoco-dev libboost-dev \
      libboost-filesystem-dev libspdlog-dev binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY sdk sdk
COPY core core
COPY api api
COPY app app
COPY plugins plugins
COPY ui ui
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DDRAY_BUILD_TESTS=OFF \
 && cmake --build /build -j "$(nproc)" \
 && cmake --install /build --prefix /opt/dray --strip
# Gather the executable, the plugins and exactly the shared libraries they need.
COPY scripts/collect-runtime.sh /usr/local/bin/
RUN collect-runtime.sh /rootfs /opt/dray/bin/dray /opt/dray/lib/dray/plugins/*.so \
 && mkdir -p /rootfs/opt/dray/share/dray \
 && cp -a /opt/dray/share/dray/ui /rootfs/opt/dray/share/dray/

FROM scratch
COPY --from=build /rootfs /
ENV PATH=/opt/dray/bin \
    LOG_LEVEL=info \
    DOCKER_HOST=unix:///var/run/docker.sock
EXPOSE 3000
# dray runs as PID 1: it handles SIGTERM itself (stops accepting, cancels running steps,
# removes their containers) and exits 0.
ENTRYPOINT ["/opt/dray/bin/dray"]
CMD ["-p", "3000"]
