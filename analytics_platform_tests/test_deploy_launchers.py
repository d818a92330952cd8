"""The run launchers for many machines, loaded by Dagster's own config schemas (nothing here starts
a task or a pod): deploy/ecs/ (EcsRunLauncher, its run task definition) and deploy/k8s/values.yaml
(the official Helm chart's values, rendered the way the chart's templates render them).

What a real account adds (docs/DEPLOY.md): the task really starting on Fargate, the pod really
scheduled, IAM and network policies. What is checked here: every key is one Dagster (or the ECS
API) accepts, the values resolve to what a run gets, and the instance sections say the same as
the production dagster.yaml that test_deploy_instance.py runs for real."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import yaml
from dagster import DagsterRun
from dagster._config import process_config, resolve_to_config_type
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes import ConfigurableClassData
from dagster_aws.ecs import EcsRunLauncher
from dagster_aws.ecs.container_context import EcsContainerContext
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
from dagster_k8s import K8sRunLauncher
from dagster_k8s.job import USER_DEFINED_K8S_CONFIG_KEY, get_user_defined_k8s_config

from .helpers import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
ECS_YAML, TASK_DEFINITION = DEPLOY / "ecs" / "dagster.yaml", DEPLOY / "ecs" / "run-task-definition.json"
HELM_VALUES = DEPLOY / "k8s" / "values.yaml"
RELEASE, NAMESPACE = "dagster", "analytics"


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def validated(config_class, config: dict) -> dict:
    """`config` processed by `config_class`'s own schema (env vars resolved), or a failure naming
    every error."""
    result = process_config(resolve_to_config_type(config_class.config_type()), config)
    assert result.success, [error.message for error in result.errors]
    return result.value


INSTANCE_VARIABLES = {"DAGSTER_PG_HOST": "db.example", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USERNAME": "dagster",
                      "DAGSTER_PG_PASSWORD": "secret", "DAGSTER_PG_DB": "dagster",
                      "DAGSTER_COMPUTE_LOGS_BUCKET": "logs", "AWS_REGION": "us-east-1"}


def test_the_ecs_instance_is_the_production_instance_with_the_ecs_launcher(monkeypatch: pytest.MonkeyPatch):
    production, ecs = load_yaml(DEPLOY / "dagster.yaml"), load_yaml(ECS_YAML)
    assert {k: v for k, v in ecs.items() if k != "run_launcher"} == {
        k: v for k, v in production.items() if k != "run_launcher"
    }
    assert (ecs["run_launcher"]["module"], ecs["run_launcher"]["class"]) == ("dagster_aws.ecs", "EcsRunLauncher")
    # Both files pass Dagster's instance schema (and its cross-section checks), the variables
    # they read resolved as the daemon resolves them.
    for name, value in INSTANCE_VARIABLES.items():
        monkeypatch.setenv(name, value)
    for path in (DEPLOY / "dagster.yaml", ECS_YAML):
        config, _ = dagster_instance_config(str(path.parent), path.name)
        assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
        assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "run"}


@pytest.fixture
def local_ecs(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The ECS API of the local moto server (the same endpoint serves S3, ECS, Secrets Manager):
    the run task definition registered there, its ARN in the variable the ECS dagster.yaml reads."""
    for name, value in {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
        monkeypatch.setenv(name, value)
    # botocore validates every field of the request against the ECS API model before sending it.
    registered = boto3.client("ecs").register_task_definition(**json.loads(TASK_DEFINITION.read_text()))
    arn = registered["taskDefinition"]["taskDefinitionArn"]
    monkeypatch.setenv("DAGSTER_ECS_RUN_TASK_DEFINITION", arn)
    return arn


def test_the_ecs_launcher_loads_with_its_task_definition_and_per_job_resources(local_ecs: str):
    launcher_config = load_yaml(ECS_YAML)["run_launcher"]
    config = validated(EcsRunLauncher, launcher_config["config"])
    assert config["container_name"] == "run" and config["secrets_tag"] == "dagster"
    assert config["run_resources"] == {"cpu": "1024", "memory": "4096"}

    # Built as the instance builds it: the constructor looks the task definition up in ECS and
    # refuses one without the `run` container.
    launcher = ConfigurableClassData(
        launcher_config["module"], launcher_config["class"], yaml.safe_dump(launcher_config["config"])
    ).rehydrate(as_type=EcsRunLauncher)
    assert launcher.task_definition == local_ecs
    assert launcher.supports_check_run_worker_health  # run monitoring sees a stopped task

    # CPU and memory: the launcher's default, or a job's (or run's) `ecs/cpu` / `ecs/memory` tags.
    default_run = DagsterRun(job_name="landing_to_gold", run_id="a" * 8)
    big_run = DagsterRun(job_name="landing_to_gold", run_id="b" * 8, tags={"ecs/cpu": "4096", "ecs/memory": "16384"})
    assert launcher.get_cpu_and_memory_overrides(
        EcsContainerContext.create_for_run(default_run, launcher), default_run) == {"cpu": "1024", "memory": "4096"}
    assert launcher.get_cpu_and_memory_overrides(
        EcsContainerContext.create_for_run(big_run, launcher), big_run) == {"cpu": "4096", "memory": "16384"}


def test_the_run_task_definition_carries_the_instance_settings_and_secrets():
    [container] = json.loads(TASK_DEFINITION.read_text())["containerDefinitions"]
    environment = {variable["name"] for variable in container["environment"]}
    secrets = {secret["name"] for secret in container["secrets"]}
    # Every variable the production dagster.yaml reads reaches the run's container.
    read = set()
    _env_names(load_yaml(DEPLOY / "dagster.yaml"), read)
    assert read - {"AWS_ENDPOINT_URL_S3"} <= environment | secrets, read - environment - secrets
    assert "DAGSTER_PG_PASSWORD" in secrets and "DAGSTER_PG_PASSWORD" not in environment
    assert all(s["valueFrom"].startswith("arn:aws:secretsmanager:") for s in container["secrets"])


def _env_names(node, found: set[str]) -> None:
    if isinstance(node, dict):
        if set(node) == {"env"}:
            found.add(node["env"])
        for value in node.values():
            _env_names(value, found)
    elif isinstance(node, list):
        for value in node:
            _env_names(value, found)


# --- Kubernetes: the Helm chart's values -----------------------------------------------------

def render_k8s_run_launcher(values: dict) -> dict:
    """The `run_launcher.config` the chart writes into the instance ConfigMap from these values: a
    port of helm/dagster/templates/helpers/instance/_run-launcher.tpl (dagsterYaml.runLauncher.k8s)."""
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    config = {
        "load_incluster_config": launcher["loadInclusterConfig"],
        "job_namespace": launcher.get("jobNamespace") or NAMESPACE,
        "image_pull_policy": launcher["imagePullPolicy"],
        "service_account_name": values["global"]["serviceAccountName"],
        "dagster_home": "/opt/dagster/dagster_home",
        "instance_config_map": f"{RELEASE}-instance",
        "postgres_password_secret": values["global"]["postgresqlSecretName"],
    }
    if launcher.get("envConfigMaps"):
        config["env_config_maps"] = [c["name"] for c in launcher["envConfigMaps"] if "name" in c]
    if launcher.get("envSecrets"):
        config["env_secrets"] = [s["name"] for s in launcher["envSecrets"] if "name" in s]
    for key, name in (("envVars", "env_vars"), ("volumeMounts", "volume_mounts"), ("volumes", "volumes"),
                      ("labels", "labels"), ("resources", "resources"), ("schedulerName", "scheduler_name"),
                      ("securityContext", "security_context")):
        if launcher.get(key):
            config[name] = launcher[key]
    if launcher.get("failPodOnRunFailure"):
        config["fail_pod_on_run_failure"] = True
    if launcher.get("runK8sConfig"):
        run = launcher["runK8sConfig"]
        config["run_k8s_config"] = {
            snake: run[camel] for camel, snake in (
                ("containerConfig", "container_config"), ("podSpecConfig", "pod_spec_config"),
                ("podTemplateSpecMetadata", "pod_template_spec_metadata"),
                ("jobSpecConfig", "job_spec_config"), ("jobMetadata", "job_metadata"))
            if run.get(camel)
        }
    return config


def test_the_helm_values_run_launcher_loads_in_k8s_run_launcher():
    values = load_yaml(HELM_VALUES)
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    config = validated(K8sRunLauncher, render_k8s_run_launcher(values))
    assert config["env_secrets"] == ["analytics-platform-secrets"]
    assert config["fail_pod_on_run_failure"] is True and config["job_namespace"] == NAMESPACE
    assert config["run_k8s_config"]["container_config"]["resources"]["requests"] == {"cpu": "1", "memory": "4Gi"}
    assert K8sRunLauncher.supports_check_run_worker_health.fget(None) is True  # run monitoring sees the Job

    # A job (or a run) asks for more with the `dagster-k8s/config` tag; the launcher reads it so.
    tag = json.dumps({"container_config": {"resources": {"requests": {"cpu": "4", "memory": "16Gi"}}}})
    user_config = get_user_defined_k8s_config({USER_DEFINED_K8S_CONFIG_KEY: tag})
    assert user_config.container_config["resources"]["requests"]["memory"] == "16Gi"

    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"][:2] == ["--module-name", "analytics_platform.definitions"]
    assert {"name": "ANALYTICS_ENV", "value": "production"} in deployment["env"]


def test_the_helm_values_give_the_production_instance():
    """The chart's instance sections rendered (configmap-instance.yaml, _concurrency.tpl) equal
    deploy/dagster.yaml's, and the S3 compute log config loads in S3ComputeLogManager."""
    values, production = load_yaml(HELM_VALUES), load_yaml(DEPLOY / "dagster.yaml")
    daemon = values["dagsterDaemon"]
    monitoring = daemon["runMonitoring"]
    assert {
        "enabled": monitoring["enabled"], "start_timeout_seconds": monitoring["startTimeoutSeconds"],
        "poll_interval_seconds": monitoring["pollIntervalSeconds"],
        "max_resume_run_attempts": monitoring["maxResumeRunAttempts"],
        "free_slots_after_run_end_seconds": monitoring["freeSlotsAfterRunEndSeconds"],
    } == production["run_monitoring"]
    retries = daemon["runRetries"]
    assert {"enabled": retries["enabled"], "max_retries": retries["maxRetries"],
            "retry_on_asset_or_op_failure": retries["retryOnAssetOrOpFailure"]} == production["run_retries"]
    pools, runs = values["concurrency"]["pools"], values["concurrency"]["runs"]
    assert {"pools": {"default_limit": pools["defaultLimit"], "granularity": pools["granularity"]},
            "runs": {"max_concurrent_runs": runs["maxConcurrentRuns"]}} == production["concurrency"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert {"dequeue_interval_seconds": queued["dequeueIntervalSeconds"],
            "max_user_code_failure_retries": queued["maxUserCodeFailureRetries"],
            "user_code_failure_retry_delay": queued["userCodeFailureRetryDelay"]
            } == production["run_coordinator"]["config"]

    s3_logs = values["computeLogManager"]["config"]["s3ComputeLogManager"]
    rendered = {"bucket": s3_logs["bucket"], "prefix": s3_logs["prefix"], "region": s3_logs["region"],
                "upload_interval": s3_logs["uploadInterval"], "skip_empty_files": s3_logs["skipEmptyFiles"]}
    assert validated(S3ComputeLogManager, rendered)["prefix"] == production["compute_logs"]["config"]["prefix"]
    assert rendered["upload_interval"] == production["compute_logs"]["config"]["upload_interval"]
