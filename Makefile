# mim — the two commands a new machine needs are `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin/mim
MIM_ADDR ?= 127.0.0.1:8080
MIM_URL ?= http://$(MIM_ADDR)

.PHONY: run build test generate check-generated lint fmt drill bench fuzz docker clean

## run: build and serve on 127.0.0.1:8080 (embedded PostgreSQL and demo data unless MIM_DATABASE_URL is set)
run: build
	./$(BIN) serve

## build: compile bin/mim
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/mim

## test: check generated code is current, then run every test against real PostgreSQL
test: check-generated
	$(GO) test -count=1 ./...

## generate: regenerate templ components (the _templ.go files are committed)
generate:
	$(GO) tool templ generate

## check-generated: fail when `templ generate` would change a committed file
check-generated:
	@before=$$(find . -name '*_templ.go' -not -path './.git/*' | sort | xargs md5sum); \
	$(GO) tool templ generate >/dev/null 2>&1 || { echo "templ generate failed"; exit 1; }; \
	after=$$(find . -name '*_templ.go' -not -path './.git/*' | sort | xargs md5sum); \
	[ "$$before" = "$$after" ] || { echo "templ files were stale (now regenerated): commit them"; exit 1; }

## lint: gofmt check and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '_templ.go$$')

## drill: run a complete major incident through the REST API of the mim started by `make run`
drill: build
	@MIM_TOKEN=$$(./$(BIN) token create --user admin@example.com --name drill) && \
	MIM_URL=$(MIM_URL) MIM_TOKEN=$$MIM_TOKEN ./$(BIN) drill; rc=$$?; \
	./$(BIN) token revoke --user admin@example.com --name drill >/dev/null; exit $$rc

## bench: Go benchmarks, then wrk against a running mim (start one with `make run`), then the delivery figures
bench:
	$(GO) test -run '^$$' -bench . -skip 'BenchmarkEnqueue100k|BenchmarkWebhookDeliveries' -benchmem ./...
	./scripts/bench.sh $(MIM_URL)
	./scripts/bench-delivery.sh

## fuzz: fuzz the request decoders for 30 s each
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeDeclare -fuzztime 30s ./internal/api/

## docker: build the container image
docker:
	docker build --build-arg VERSION=$(VERSION) -t mim:$(VERSION) .

clean:
	rm -rf bin
