# The gateway as a container image: README.md, "Run it as a service", says
# how to build and run it; docs/SERVING.md §5 has the flags.
#
#   docker build -t mirror .
#   docker run --stop-timeout 40 -p 8080:8080 -v mirror-data:/data mirror

# go.mod asks for Go 1.26.
FROM golang:1.26 AS build
WORKDIR /src
# The modules first, in a layer of their own: a change to the source does
# not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary (CGO_ENABLED=0: no libc in the final image), without
# file paths of this machine or symbol tables. .dockerignore keeps .git out
# of the context (it is large, and may hold what the image should not), so
# `mirror version` in the image says "(devel), revision unknown": the
# revision is the label below instead, when the build passes it.
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/mirror ./cmd/mirror \
 && mkdir /out/data

# distroless static: CA certificates for https origins, /tmp for the spools
# of an s3:// store, a nonroot user, and no shell or package manager.
FROM gcr.io/distroless/static-debian12:nonroot
ARG REVISION=""
LABEL org.opencontainers.image.title="mirror" \
      org.opencontainers.image.source="https://github.com/mirrorkit/mirror" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/mirror /mirror
# A new named volume starts as a copy of the image's /data, owner included:
# without this directory it would be root's, and the gateway could not
# write its store.
COPY --from=build --chown=65532:65532 /out/data /data
# Numeric, so that a runtime can tell it is not root without reading
# /etc/passwd (Kubernetes' runAsNonRoot).
USER 65532:65532
VOLUME /data
# 8080: the gateway; 9090: -metrics 0.0.0.0:9090, when the command gives it.
EXPOSE 8080 9090
ENTRYPOINT ["/mirror"]
# The container's own address, not serve's default 127.0.0.1: only that is
# reachable through a published port (docs/SERVING.md §5).
CMD ["serve", "-data", "/data", "-listen", "0.0.0.0:8080"]
