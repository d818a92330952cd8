# The platform's image: the code server (user deployment), the daemon, the webserver and every run
# worker run from it (docs/DEPLOY.md). `make image` builds it where a Docker daemon is available.
#
# Its install and prepare steps are the README's own make targets, nothing else: `make install`
# (the venv from requirements.lock) and `make manifest` (`analytics-platform prepare`, i.e. `dbt
# parse`, offline). The parsed manifest is baked into the image, so the code location never
# parses the dbt project at start-up (dagster-dbt parses only under `dagster dev`).
# analytics_platform_tests/test_deploy_image.py checks that these are the only build steps and
# runs the prepare step on a copy of this build context (.dockerignore applied).

FROM python:3.11-slim-bookworm

# The warehouse the manifest is parsed for (the dbt target: duckdb, postgres, redshift,
# databricks, spark) and the environment (ANALYTICS_ENV); the running containers must use the same.
ARG ANALYTICS_WAREHOUSE=redshift
ARG ANALYTICS_ENV=production
# Which instance configuration goes into DAGSTER_HOME: deploy/dagster.yaml (one host) or
# deploy/ecs/dagster.yaml (runs as ECS tasks). On Kubernetes the Helm chart mounts its own.
ARG DAGSTER_YAML=deploy/dagster.yaml

# make: the install and prepare steps are make targets. A non-root user owns the project folder:
# dbt writes its target/ there at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 dagster \
    && install -d -o dagster -g dagster /opt/analytics-platform /opt/dagster/dagster_home

ENV ANALYTICS_WAREHOUSE=${ANALYTICS_WAREHOUSE} \
    ANALYTICS_ENV=${ANALYTICS_ENV} \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    DO_NOT_TRACK=1 \
    DAGSTER_DISABLE_TELEMETRY=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/analytics-platform/.venv/bin:${PATH}

WORKDIR /opt/analytics-platform
USER dagster

COPY --chown=dagster:dagster . .
COPY --chown=dagster:dagster ${DAGSTER_YAML} /opt/dagster/dagster_home/dagster.yaml

RUN make install PYTHON=python3
RUN make manifest

# The code server; the daemon and the webserver override the command (docs/DEPLOY.md).
EXPOSE 4000
CMD ["dagster", "api", "grpc", "--host", "0.0.0.0", "--port", "4000", \
     "--module-name", "analytics_platform.definitions", "--location-name", "analytics_platform"]
