# The scalelab image for `scalelab k8s` (see docs/scale-out.md):
#   docker build -t registry.example.com/scalelab:0.1 . && docker push registry.example.com/scalelab:0.1
FROM rust:1 AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p scalelab

FROM debian:bookworm-slim
# No CA bundle is needed (scalelab carries the web PKI roots); sh and tar serve the pod script and
# `kubectl cp`.
COPY --from=build /src/target/release/scalelab /usr/local/bin/scalelab
USER 65532:65532
EXPOSE 9464
ENTRYPOINT ["scalelab"]
