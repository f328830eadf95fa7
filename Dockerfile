# Cairn's image: a static binary on a distroless base, run as a non-root user.
#
#   docker build -t registry.company.com/platform/cairn:0.1.0 .
#
# deploy/ runs it with a read-only root filesystem; the SQLite overlay mounts
# its volume at /var/lib/cairn.

FROM golang:1.26.8 AS build
WORKDIR /src
# Modules first, so that a source change reuses the downloaded modules.
COPY go.mod go.sum ./
RUN go mod download
# Only what the binary is built from.
COPY cmd ./cmd
COPY gen ./gen
COPY internal ./internal
COPY server ./server
COPY store ./store
# No cgo (the SQLite driver is pure Go): a static binary that needs no libc.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cairn ./cmd/cairn

# The distroless static image: CA certificates, tzdata and /etc/passwd, no
# shell or package manager. Its nonroot user is 65532, as the Deployment's
# securityContext says.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cairn /cairn
USER 65532:65532
EXPOSE 9090 8080
ENTRYPOINT ["/cairn"]
CMD ["serve"]
