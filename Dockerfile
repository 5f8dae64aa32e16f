# syntax=docker/dockerfile:1
# Build: a static binary. Run: distroless, non-root. Point it at a database with MIM_DATABASE_URL.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/mim ./cmd/mim

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mim /usr/local/bin/mim
USER nonroot:nonroot
ENV MIM_ADDR=0.0.0.0:8080 MIM_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/mim"]
CMD ["serve"]
