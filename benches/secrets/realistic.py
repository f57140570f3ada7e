#!/usr/bin/env python3
"""Generates a labelled corpus of realistic audit and log text with secrets in it.

Written from the shapes of real software's output (PostgreSQL, MySQL, nginx, Kubernetes audit,
AWS CloudTrail, GitHub audit, sudo, shell history, Java and Python stack traces, CI logs,
config files) and from providers' documented token formats, not from the detectors' rules.
Each case is one line of JSON in the format of ../shared/secrets-dev/peer-dev.jsonl (id,
source, rule, label, text, secret, secret_spans), plus `split`: every template belongs to
either the `tune` split or the `holdout` split (a fixed hash of its name), and the hold-out
part is never looked at while tuning the detectors. `holdout2` templates were written after the
first hold-out had been scored once and looked at, `holdout3` after the second, `holdout4`
after the third, `holdout5` after the fourth, `holdout6` after the fifth, `holdout7` after the sixth, `holdout8` after the seventh; `holdout9` was read but not tuned on; `holdout10` was written before session 5's changes, scored once after them, then read and fixed; `holdout11` likewise; `holdout12` likewise; `holdout13` likewise; `holdout14` likewise; `holdout15` likewise; `holdout16` likewise; `holdout17` likewise; `holdout18` likewise; `holdout19` likewise; `holdout20` was scored once at the end of session 5 and read at the start of session 6; `holdout21` was written before that reading (see BENCHMARKS.md). Standard library only.

    python3 benches/secrets/realistic.py > /tmp/realistic.jsonl
    python3 benches/secrets/realistic.py --split holdout > /tmp/holdout.jsonl
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import re
import string
import urllib.parse

AN = string.ascii_letters + string.digits
LOW = string.ascii_lowercase + string.digits
UP = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = AN + "+/"
URLSAFE = AN + "-_"
WORDS = ("river stone amber falcon copper meadow orbit violet harbor cedar ember quartz "
         "lantern summit willow nectar tundra cobalt prairie saffron").split()


def rs(rng, n, cs=AN):
    return "".join(rng.choice(cs) for _ in range(n))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# ---- Secrets, by documented formats ------------------------------------------------------

def human_password(rng):
    w = rng.choice(WORDS)
    styles = [
        lambda: w.capitalize() + str(rng.randint(1990, 2031)) + rng.choice("!#$%&*?@"),
        lambda: "-".join(rng.sample(WORDS, 3)),
        lambda: rng.choice("$!@#") + w[0].upper() + w[1:].replace("e", "3").replace("a", "4") + str(rng.randint(1, 99)),
        lambda: rs(rng, rng.randint(10, 20), AN + "!@#%^&*()-_=+"),
        lambda: w + str(rng.randint(100, 999)) + w[::-1].upper()[:3],
        lambda: rs(rng, 16, AN),
    ]
    return rng.choice(styles)()


def aws_key_id(rng):
    return "AKIA" + rs(rng, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def aws_secret(rng):
    return rs(rng, 40, B64)


def github_pat(rng):
    return "ghp_" + rs(rng, 36)


def github_refresh(rng):
    return "ghr_" + rs(rng, 76)


def slack_bot(rng):
    return f"xoxb-{rng.randint(10**10, 10**12)}-{rng.randint(10**10, 10**12)}-{rs(rng, 24)}"


def stripe_live(rng):
    return "sk_live_" + rs(rng, 99 if rng.random() < 0.3 else 24)


def gitlab_pat(rng):
    return "glpat-" + rs(rng, 20, URLSAFE)


def jwt(rng):
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": rs(rng, 8)}).encode())
    body = b64url(json.dumps({"sub": rs(rng, 12), "iat": rng.randint(1.6e9, 1.8e9), "scope": "read write"}).encode())
    return f"{header}.{body}.{b64url(rng.randbytes(64))}"


def openai_key(rng):
    return "sk-proj-" + rs(rng, 48, URLSAFE) + "T3BlbkFJ" + rs(rng, 48, URLSAFE)


def anthropic_key(rng):
    return "sk-ant-api03-" + rs(rng, 93, URLSAFE) + "AA"


def google_api_key(rng):
    return "AIza" + rs(rng, 35, URLSAFE)


def sendgrid(rng):
    return "SG." + rs(rng, 22, URLSAFE) + "." + rs(rng, 43, URLSAFE)


def npm_token(rng):
    return "npm_" + rs(rng, 36)


def twilio_key(rng):
    return "SK" + rs(rng, 32, HEX)


def vault_token(rng):
    return "hvs." + rs(rng, 24)


def generic_token(rng):
    return rs(rng, rng.choice([24, 32, 40, 48]), rng.choice([AN, HEX, URLSAFE]))


def session_id(rng):
    return rs(rng, 32, rng.choice([HEX.upper(), AN]))


def pem_key(rng):
    body = "\n".join(rs(rng, 64, B64) for _ in range(6))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


TOKENS = [aws_secret, github_pat, github_refresh, slack_bot, stripe_live, gitlab_pat, jwt, openai_key,
          anthropic_key, google_api_key, sendgrid, npm_token, twilio_key, vault_token, generic_token]

# ---- Templates: (name, genre, secret maker, format) -------------------------------------
# `{s}` is the secret; `{u}` a user, `{h}` a host, `{ip}` an address, `{t}` a timestamp,
# `{id}` a request id. A template's text is what that software really writes.

def P(name, genre, maker, fmt, wrap=None):
    return {"name": name, "genre": genre, "maker": maker, "fmt": fmt, "wrap": wrap}


POSITIVE = [
    # PostgreSQL and MySQL
    P("pg-alter-role", "postgresql", human_password, "{t} UTC [4242] {u}@app LOG:  statement: ALTER ROLE app_rw WITH LOGIN PASSWORD '{s}';"),
    P("pg-create-user", "postgresql", human_password, "{t} [1987] LOG:  statement: CREATE USER reporting WITH ENCRYPTED PASSWORD '{s}' VALID UNTIL 'infinity';"),
    P("pg-conninfo", "postgresql", human_password, "pg_basebackup: connecting with \"host={h} port=5432 user=replicator password={s} sslmode=require\""),
    P("pg-url", "postgresql", human_password, "django.db: connecting to postgresql://app:{s}@{h}:5432/orders"),
    P("mysql-identified", "mysql", human_password, "{t} 1423 Query\tCREATE USER 'svc_etl'@'%' IDENTIFIED BY '{s}'"),
    P("mysql-alter-native", "mysql", human_password, "{t} 88 Query\tALTER USER 'root'@'localhost' IDENTIFIED WITH caching_sha2_password BY '{s}'"),
    P("mysql-cli", "shell", human_password, "{u}@{h}:~$ mysql -h db-primary -u admin -p{s} -e 'show databases'"),
    P("mysql-set-password", "mysql", human_password, "{t} 77 Query\tSET PASSWORD FOR 'app'@'10.%' = '{s}'"),
    P("jdbc-url", "java", human_password, "HikariPool-1 - jdbcUrl=jdbc:postgresql://{h}:5432/billing?user=billing&password={s}&ssl=true"),
    P("jdbc-oracle", "java", human_password, "Caused by: java.sql.SQLException: Listener refused the connection for jdbc:oracle:thin:scott/{s}@{h}:1521/ORCLPDB1"),
    P("adonet", "dotnet", human_password, "Connection string: Server=tcp:{h},1433;Initial Catalog=Sales;Persist Security Info=False;User ID=sa;Password={s};Encrypt=True;"),
    P("odbc", "dotnet", human_password, "DSN-less: Driver={{ODBC Driver 18 for SQL Server}};Server={h};Database=hr;Uid=hr_app;Pwd={s};"),
    P("mongodb-url", "node", human_password, "MongoServerSelectionError while connecting to mongodb+srv://api-user:{s}@cluster0.{h}/prod?retryWrites=true"),
    P("redis-url", "python", human_password, "celery.worker: Connected to redis://:{s}@{h}:6379/0"),
    # HTTP and proxies
    P("nginx-basic", "nginx", lambda r: base64.b64encode(f"admin:{human_password(r)}".encode()).decode(),
      '{ip} - - [{t}] "GET /admin HTTP/1.1" 401 179 "-" "curl/8.4.0" auth="Basic {s}"'),
    P("header-dump-bearer", "http", generic_token, "DEBUG http.client: send: b'GET /v2/accounts HTTP/1.1\\r\\nHost: api.{h}\\r\\nAuthorization: Bearer {s}\\r\\n'"),
    P("header-x-api-key", "http", generic_token, "upstream request: POST /v1/charge headers={{'Content-Type': 'application/json', 'X-Api-Key': '{s}'}}"),
    P("header-proxy-auth", "http", lambda r: base64.b64encode(f"proxyuser:{human_password(r)}".encode()).decode(), "CONNECT api.{h}:443 HTTP/1.1\r\nProxy-Authorization: Basic {s}\r\n"),
    P("cookie-header", "http", session_id, "request headers: Host: shop.{h} | Cookie: _ga=GA1.2.1234; sessionid={s}; csrftoken=abc"),
    P("set-cookie", "http", session_id, "< HTTP/2 302\n< set-cookie: JSESSIONID={s}; Path=/; Secure; HttpOnly"),
    P("query-password", "nginx", human_password, '{ip} - - [{t}] "GET /login?user=bob&password={s} HTTP/1.1" 200 512', wrap="percent"),
    P("query-token", "nginx", generic_token, '{ip} - - [{t}] "GET /api/export?format=csv&access_token={s} HTTP/1.1" 200 88120'),
    P("query-encoded-pair", "nginx", human_password, '{ip} - - [{t}] "GET /cb?next=%2Fhome%3Fpassword%3D{s} HTTP/1.1" 302 0', wrap="percent"),
    P("curl-user", "shell", human_password, "+ curl -sS -u deploy:{s} https://artifacts.{h}/upload -T build.tgz"),
    P("curl-header", "shell", github_pat, "+ curl -H \"Authorization: token {s}\" https://api.github.com/repos/acme/app/releases"),
    P("wget-password", "shell", human_password, "wget --user=ci --password={s} https://nexus.{h}/repository/raw/app.tar.gz"),
    # Kubernetes, containers, cloud
    P("k8s-secret-data", "kubernetes", human_password, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: {s}\n", wrap="base64"),
    P("k8s-audit-request", "kubernetes", generic_token,
      '{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","verb":"create","user":{{"username":"system:serviceaccount:ci:deployer"}},"objectRef":{{"resource":"secrets","namespace":"prod","name":"api"}},"requestObject":{{"kind":"Secret","stringData":{{"API_TOKEN":"{s}"}}}}}}'),
    P("docker-auth", "containers", lambda r: base64.b64encode(f"robot$ci:{generic_token(r)}".encode()).decode(),
      '{{"auths":{{"registry.{h}":{{"auth":"{s}"}}}}}}'),
    P("dockerconfigjson", "kubernetes", lambda r: base64.b64encode(json.dumps({"auths": {"ghcr.io": {"username": "bot", "password": github_pat(r)}}}).encode()).decode(),
      "  .dockerconfigjson: {s}"),
    P("docker-login", "shell", human_password, "$ docker login -u svc-ci -p {s} registry.{h}"),
    P("cloudtrail-params", "cloudtrail",
      human_password, '{{"eventVersion":"1.08","eventSource":"rds.amazonaws.com","eventName":"ModifyDBInstance","requestParameters":{{"dBInstanceIdentifier":"prod-db","masterUserPassword":"{s}","applyImmediately":true}}}}'),
    P("aws-env-dump", "shell", aws_secret, "AWS_ACCESS_KEY_ID={kid}\nAWS_SECRET_ACCESS_KEY={s}\nAWS_DEFAULT_REGION=eu-west-1"),
    P("aws-credentials-file", "config", aws_secret, "[default]\naws_access_key_id = {kid}\naws_secret_access_key = {s}\n"),
    P("aws-secret-pair-log", "ci", aws_secret, "Configured credentials {kid} / {s} for profile deploy"),
    P("aws-cli-configure", "shell", aws_secret, "$ aws configure set aws_secret_access_key {s} --profile prod"),
    # GitHub, CI
    P("github-audit", "github", github_pat, '{{"action":"oauth_authorization.create","actor":"{u}","token_scopes":"repo","note":"leaked in body: {s}"}}'),
    P("github-remote", "git", github_pat, "remote: Invalid username or password.\nfatal: Authentication failed for 'https://{u}:{s}@github.com/acme/infra.git/'"),
    P("gh-refresh", "github", github_refresh, "oauth: refreshed user-to-server token, refresh_token={s} expires_in=15897600"),
    P("ci-echo-token", "ci", gitlab_pat, "$ echo \"Using token ${{CI_JOB_TOKEN:-{s}}}\" >> build.log"),
    P("npmrc", "config", npm_token, "//registry.npmjs.org/:_authToken={s}\nalways-auth=true"),
    P("pip-conf", "config", human_password, "[global]\nindex-url = https://ci:{s}@pypi.{h}/simple"),
    # sudo, shell history
    P("sudo-echo", "sudo", human_password, "Dec  1 10:22:31 {h} sudo:   {u} : TTY=pts/1 ; PWD=/home/{u} ; USER=root ; COMMAND=/bin/sh -c echo {s} | passwd --stdin app"),
    P("history-export", "shell", generic_token, "  512  export STRIPE_API_KEY={s}"),
    P("history-export-pw", "shell", human_password, "  513  export PGPASSWORD='{s}'"),
    P("cli-flag-token", "shell", generic_token, "$ terraform-provider-acme --api-token {s} --region eu"),
    P("cli-flag-eq", "shell", human_password, "$ ./manage.py createsuperuser --username admin --password={s}"),
    P("sshpass", "shell", human_password, "sshpass -p '{s}' ssh -o StrictHostKeyChecking=no root@{ip}"),
    P("htpasswd-cli", "shell", human_password, "$ htpasswd -b /etc/nginx/.htpasswd ops {s}"),
    # Application stack traces and logs
    P("java-stack", "java", human_password, "org.springframework.beans.factory.BeanCreationException: Error creating bean 'dataSource': url=jdbc:mysql://{h}/app, username=app, password={s}\n\tat org.springframework..."),
    P("python-repr", "python", human_password, "Traceback (most recent call last):\n  File \"app.py\", line 42, in connect\n    conn = psycopg2.connect(host='{h}', user='etl', password='{s}')\npsycopg2.OperationalError: timeout"),
    P("python-dict-log", "python", generic_token, "INFO:root:settings loaded: {{'DEBUG': False, 'SECRET_KEY': '{s}', 'ALLOWED_HOSTS': ['*']}}"),
    P("node-error", "node", stripe_live, "Error: Invalid API Key provided: {s}\n    at StripeError.generate (/app/node_modules/stripe/lib/Error.js:40:12)"),
    P("json-escaped-in-msg", "app", human_password, '{{"level":"error","msg":"request failed","body":"{{\\"username\\":\\"bob\\",\\"password\\":\\"{s}\\"}}"}}'),
    P("json-nested-string", "app", generic_token, '{{"event":"webhook.received","payload":"{{\\"type\\":\\"auth\\",\\"data\\":{{\\"client_secret\\":\\"{s}\\"}}}}"}}'),
    P("pem-escaped", "app", pem_key, '{{"type":"service_account","project_id":"acme","private_key":"{s}"}}', wrap="json-escape"),
    P("pem-raw", "config", pem_key, "tls:\n  key: |\n{s}\n"),
    P("jwt-log", "app", jwt, "{t} WARN auth middleware rejected token {s} (expired)"),
    P("openai-log", "app", openai_key, "openai.error.AuthenticationError: Incorrect API key provided: {s}."),
    P("anthropic-env", "config", anthropic_key, "ANTHROPIC_API_KEY={s}"),
    P("gcp-key-url", "nginx", google_api_key, '{ip} - - [{t}] "GET /maps/api/geocode/json?address=Berlin&key={s} HTTP/1.1" 200 1032'),
    P("sendgrid-yaml", "config", sendgrid, "mail:\n  provider: sendgrid\n  api_key: \"{s}\"\n"),
    P("twilio-props", "config", twilio_key, "twilio.api.key={s}\ntwilio.account=AC{acct}"),
    P("vault-login", "shell", vault_token, "$ VAULT_TOKEN={s} vault kv get secret/app"),
    P("slack-yaml", "config", slack_bot, "notifications:\n  slack:\n    bot_token: {s}\n"),
    # Config formats
    P("ini-password", "config", human_password, "[database]\nhost = {h}\nuser = app\npassword = {s}\n"),
    P("toml-secret", "config", generic_token, "[server]\nport = 8443\nsession_secret = \"{s}\"\n"),
    P("properties", "config", human_password, "spring.datasource.url=jdbc:postgresql://{h}/app\nspring.datasource.password={s}"),
    P("xml-attr", "config", human_password, '<connectionStrings><add name="main" connectionString="Data Source={h};User Id=app;Password={s};" /></connectionStrings>'),
    P("xml-element", "config", human_password, "<settings><server><id>nexus</id><username>deploy</username><password>{s}</password></server></settings>"),
    P("yaml-nested", "config", human_password, "spring:\n  datasource:\n    username: app\n    password: \"{s}\"\n"),
    P("env-file", "config", generic_token, "APP_ENV=production\nJWT_SIGNING_KEY={s}\nLOG_LEVEL=info"),
    P("json-password-dollar", "app", lambda r: "$" + human_password(r), '{{"user":"svc","password":"{s}"}}'),
    P("json-numeric-pin", "app", lambda r: str(r.randint(100000, 999999)), '{{"user":"svc","pin":"1","password":{s}}}'),
    P("json-array-tokens", "app", generic_token, '{{"tokens_granted":2,"api_keys":["{s}"]}}'),
]

# A second hold-out, written after the detectors were tuned and after the first hold-out had
# been scored once: other software, other shapes. Never looked at while tuning.
HOLDOUT2 = [
    P("h2-pgpass", "postgresql", human_password, "cat ~/.pgpass\ndb-primary:5432:*:replicator:{s}"),
    P("h2-kafka-jaas", "kafka", human_password, 'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="svc-orders" password="{s}";'),
    P("h2-ldap-bind", "ldap", human_password, "ldapsearch -x -H ldaps://ldap.{h} -D 'cn=admin,dc=acme,dc=io' -w '{s}' '(uid={u})'"),
    P("h2-smtp-url", "mail", human_password, "django.core.mail: EMAIL_URL=smtp+tls://alerts%40acme.io:{s}@smtp.{h}:587", wrap="percent"),
    P("h2-ftp-url", "shell", human_password, "lftp -e 'mirror -R build /www' ftp://deploy:{s}@ftp.{h}"),
    P("h2-jupyter", "python", generic_token, "[I 10:42:01.123 NotebookApp] http://127.0.0.1:8888/?token={s}"),
    P("h2-airflow-conn", "airflow", human_password, "AIRFLOW_CONN_WAREHOUSE='postgres://etl:{s}@warehouse.{h}:5439/analytics'"),
    P("h2-vault-audit", "vault", vault_token, '{{"type":"response","auth":{{"client_token":"{s}","accessor":"hmac-sha256:9c1b","policies":["default"]}}}}'),
    P("h2-gha-mask-fail", "ci", github_pat, "Run git clone https://x-access-token:{s}@github.com/acme/private.git"),
    P("h2-terraform-plan", "terraform", human_password, '  + resource "aws_db_instance" "main" {{\n      + password = "{s}"\n      + username = "admin"'),
    P("h2-ansible-debug", "ansible", human_password, 'ok: [web1] => {{"msg": "connecting as deploy with ansible_become_pass={s}"}}'),
    P("h2-helm-set", "kubernetes", human_password, "helm upgrade --install db bitnami/postgresql --set auth.postgresPassword={s} --namespace data"),
    P("h2-kubectl-create", "kubernetes", generic_token, "kubectl create secret generic api --from-literal=API_TOKEN={s} -n prod"),
    P("h2-redis-cli", "shell", human_password, "redis-cli -h cache.{h} -a '{s}' INFO replication"),
    P("h2-go-panic", "go", stripe_live, 'panic: stripe: invalid key "{s}"\n\ngoroutine 1 [running]:\nmain.main()'),
    P("h2-dotnet-exc", "dotnet", human_password, "System.Data.SqlClient.SqlException: Login failed. ConnectionString='Data Source={h};Initial Catalog=crm;User ID=crm;Password={s}'"),
    P("h2-rails-params", "rails", human_password, 'Processing by SessionsController#create as HTML\n  Parameters: {{"authenticity_token"=>"[FILTERED]", "user"=>{{"email"=>"{u}@acme.io", "password"=>"{s}"}}}}'),
    P("h2-windows-net-use", "windows", human_password, "C:\\> net use Z: \\\\fileserver\\share /user:ACME\\svc_backup {s}"),
    P("h2-systemd-env", "systemd", generic_token, "Dec 01 10:00:00 {h} systemd[1]: Starting api.service with Environment=SENTRY_AUTH_TOKEN={s}"),
    P("h2-yaml-list", "config", human_password, "users:\n  - name: admin\n    password: '{s}'\n"),
    P("h2-basic-in-json-log", "app", lambda r: base64.b64encode(f"svc:{human_password(r)}".encode()).decode(), '{{"ts":"{t}","req":{{"method":"GET","headers":{{"authorization":"Basic {s}"}}}}}}'),
    P("h2-escaped-json-token", "app", slack_bot, '{{"log":"{{\\"event\\":\\"notify\\",\\"slack_token\\":\\"{s}\\"}}\\n","stream":"stdout"}}'),
    P("h2-aws-sigv4-query", "http", generic_token, "GET /bucket/file.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Security-Token={s}&X-Amz-Signature=abc HTTP/1.1"),
    P("h2-sendgrid-env", "config", sendgrid, "export SENDGRID_API_KEY='{s}'"),
    P("h2-openai-header", "http", openai_key, "-H 'Authorization: Bearer {s}' https://api.openai.com/v1/chat/completions"),
]

NEGATIVE2 = [
    P("h2-neg-checksum-file", "ci", None, "{sha64}  glasslog-x86_64-unknown-linux-gnu.tar.gz\n{sha64}  glasslog-aarch64.tar.gz"),
    P("h2-neg-k8s-event", "kubernetes", None, "Normal  Pulled  pod/api-{sha7}  Successfully pulled image \"api:1.4.2\" in 812ms; uid={uuid}"),
    P("h2-neg-password-ui", "app", None, "{t} INFO audit: user {u} changed password (strength=strong, history_check=passed)"),
    P("h2-neg-token-metrics", "app", None, "llm.usage prompt_tokens=812 completion_tokens=233 total_tokens=1045 max_tokens=4096"),
    P("h2-neg-secret-name", "kubernetes", None, "secret/db-credentials created; secretName: db-credentials; key: password"),
    P("h2-neg-terraform-sensitive", "terraform", None, '      + password = (sensitive value)\n      + username = "admin"'),
    P("h2-neg-rails-filtered", "rails", None, '  Parameters: {{"user"=>{{"email"=>"{u}@acme.io", "password"=>"[FILTERED]"}}}}'),
    P("h2-neg-git-log", "git", None, "{sha7} Rotate API keys for staging (#4521)\n{sha7b} Remove hardcoded password from tests"),
    P("h2-neg-jwt-header-doc", "docs", None, "Send the header Authorization: Bearer <token> where <token> is your API token"),
    P("h2-neg-ids", "cloudtrail", None, '{{"accessKeyId":"ASIAXXXXXXXXXXXXXXXX","principalId":"AROA{up16}:{u}","sessionIssuer":{{"arn":"arn:aws:iam::123456789012:role/Admin"}}}}'),
]

# A third hold-out, written after the second had been scored once and looked at. Scored once,
# for the figures in BENCHMARKS.md.
HOLDOUT3 = [
    P("h3-haproxy-userlist", "haproxy", human_password, "userlist admins\n    user ops insecure-password {s}"),
    P("h3-nginx-proxy-header", "nginx", lambda r: base64.b64encode(f"api:{human_password(r)}".encode()).decode(), '    proxy_set_header Authorization "Basic {s}";'),
    P("h3-apache-auth-log", "apache", human_password, '{ip} - - [{t}] "GET /private/?user=admin&pass={s} HTTP/1.1" 403 199'),
    P("h3-systemd-cred", "systemd", human_password, "Dec 01 09:12:44 {h} run-parts[812]: mysqldump --user=backup --password={s} --all-databases"),
    P("h3-cloudinit", "cloud-init", human_password, "cloud-init[901]: chpasswd:\n  list: |\n    ubuntu:{s}\n  expire: false"),
    P("h3-docker-run-env", "containers", human_password, "$ docker run -d -e POSTGRES_PASSWORD={s} -p 5432:5432 postgres:16"),
    P("h3-compose-env", "containers", generic_token, "services:\n  api:\n    environment:\n      - STRIPE_SECRET={s}\n"),
    P("h3-gcloud-debug", "gcloud", jwt, "DEBUG: Making request: POST https://oauth2.googleapis.com/token\nDEBUG: id_token: {s}"),
    P("h3-azure-conn", "azure", lambda r: rs(r, 86, B64) + "==", "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey={s};EndpointSuffix=core.windows.net"),
    P("h3-azure-sas-url", "azure", lambda r: urllib.parse.quote(base64.b64encode(r.randbytes(32)).decode(), safe=""), "Uploading to https://acmelogs.blob.core.windows.net/backups/db.tar?sv=2022-11-02&ss=b&srt=o&sp=rwl&se=2026-12-31&sig={s}"),
    P("h3-webhook-secret", "github", generic_token, '{{"action":"hook.create","actor":"{u}","config":{{"url":"https://ci.acme.io/hook","content_type":"json","secret":"{s}"}}}}'),
    P("h3-oauth-code-exchange", "http", generic_token, "POST /oauth/token grant_type=authorization_code&code=AbC123&client_id=web&client_secret={s}&redirect_uri=https%3A%2F%2Fapp"),
    P("h3-refresh-token-json", "app", generic_token, '{{"token_type":"Bearer","expires_in":3599,"refresh_token":"{s}","scope":"openid"}}'),
    P("h3-php-pdo", "php", human_password, "PDOException: SQLSTATE[HY000] [1045] in /var/www/db.php:12 new PDO('mysql:host={h};dbname=shop', 'shop', '{s}')"),
    P("h3-nodemailer", "node", human_password, "nodemailer createTransport {{ host: 'smtp.{h}', auth: {{ user: 'alerts', pass: '{s}' }} }}"),
    P("h3-java-props-escaped", "java", human_password, "Loaded properties: {{db.user=app, db.password={s}, db.pool=10}}"),
    P("h3-python-kwargs", "python", human_password, "DEBUG:sqlalchemy.engine: create_engine(url='mssql+pyodbc://sa:{s}@{h}/erp?driver=ODBC+Driver+18')"),
    P("h3-json-header-list", "app", generic_token, '{{"request":{{"headers":[["Host","api.{h}"],["X-Auth-Token","{s}"]]}}}}'),
    P("h3-gitlab-ci-var", "ci", gitlab_pat, "$ git remote set-url origin https://oauth2:{s}@gitlab.{h}/group/repo.git"),
    P("h3-npm-login-log", "ci", npm_token, "npm notice Publishing to https://registry.npmjs.org/ with token {s}"),
    P("h3-k8s-configmap-leak", "kubernetes", human_password, "data:\n  application.yaml: |\n    datasource:\n      password: {s}\n"),
    P("h3-powershell-cred", "windows", human_password, "PS> $cred = New-Object PSCredential('ACME\\svc', (ConvertTo-SecureString '{s}' -AsPlainText -Force))"),
    P("h3-percent-json", "app", human_password, "POST /api/login body=%7B%22user%22%3A%22bob%22%2C%22password%22%3A%22{s}%22%7D", wrap="percent"),
    P("h3-b64-json-blob", "app", lambda r: base64.b64encode(json.dumps({"user": "bob", "password": human_password(r)}).encode()).decode(), "event payload (base64): {s}"),
    P("h3-anthropic-log", "app", anthropic_key, "anthropic.AuthenticationError: invalid x-api-key {s}"),
]

NEGATIVE3 = [
    P("h3-neg-haproxy-hash", "haproxy", None, "userlist admins\n    user ops password $6$rounds=5000$saltsalt$9f86d081884c7d659a2feaa0c55ad015"),
    P("h3-neg-compose-ref", "containers", None, "environment:\n  - POSTGRES_PASSWORD_FILE=/run/secrets/db_password\n  - API_TOKEN=${{API_TOKEN:?missing}}"),
    P("h3-neg-oauth-meta", "http", None, '{{"token_type":"Bearer","expires_in":3599,"scope":"openid email","id_token_hint":"none"}}'),
    P("h3-neg-audit-pw-change", "github", None, '{{"action":"user.change_password","actor":"{u}","actor_ip":"{ip}","created_at":{epoch}}}'),
    P("h3-neg-ssh-fingerprint", "sshd", None, "Accepted publickey for {u} from {ip} port 52211 ssh2: ED25519 SHA256:{b64}"),
    P("h3-neg-sri", "http", None, '<script src="/app.js" integrity="sha384-{b64}" crossorigin="anonymous"></script>'),
    P("h3-neg-docker-digest", "containers", None, "Digest: sha256:{sha64}\nStatus: Downloaded newer image for postgres:16"),
    P("h3-neg-uuid-keys", "app", None, '{{"idempotency_key":"{uuid}","correlation_id":"{uuid2}","api_version":"2024-06-20"}}'),
    P("h3-neg-masked-card", "payments", None, "charge ok card=**** **** **** 4242 token=tok_**** amount=1200"),
    P("h3-neg-help-text", "shell", None, "usage: mysql [-u user] [-p[password]] [-h host]\n  --password[=name] Password to use when connecting to server."),
]

# A fourth hold-out, written after the third had been scored once and looked at. Scored once.
def wireguard_key(rng):
    return base64.b64encode(rng.randbytes(32)).decode()


HOLDOUT4 = [
    P("h4-win-4688", "windows", human_password, "EventID=4688 NewProcessName=C:\\Windows\\System32\\cmd.exe CommandLine=cmd /c net user backup {s} /add"),
    P("h4-ps-transcript", "windows", human_password, "PS C:\\> Invoke-Sqlcmd -ServerInstance db01 -Username sa -Password '{s}' -Query 'SELECT 1'"),
    P("h4-auditd-execve", "auditd", human_password, 'type=EXECVE msg=audit(1701423600.123:842): argc=4 a0="mysql" a1="-uroot" a2="-p{s}" a3="-e"'),
    P("h4-tomcat-users", "java", human_password, '<tomcat-users><user username="manager" password="{s}" roles="manager-gui"/></tomcat-users>'),
    P("h4-postfix-sasl", "mail", human_password, "/etc/postfix/sasl_passwd: [smtp.{h}]:587 relay@acme.io:{s}"),
    P("h4-wireguard", "config", wireguard_key, "[Interface]\nAddress = 10.8.0.1/24\nPrivateKey = {s}\nListenPort = 51820"),
    P("h4-ipsec-psk", "config", human_password, '%any %any : PSK "{s}"'),
    P("h4-consul-header", "http", lambda r: uuid(r), "curl -H 'X-Consul-Token: {s}' http://127.0.0.1:8500/v1/kv/app"),
    P("h4-rabbitmq-url", "python", human_password, "kombu.connection: Connected to amqp://orders:{s}@rabbit.{h}:5672//"),
    P("h4-az-login", "shell", human_password, "$ az login -u ops@acme.onmicrosoft.com -p '{s}'"),
    P("h4-snowsql", "shell", human_password, "$ SNOWSQL_PWD='{s}' snowsql -a acme-xy12345 -u etl -d analytics"),
    P("h4-gcp-sa-json", "gcp", pem_key, '{{"type": "service_account", "client_email": "ci@acme.iam.gserviceaccount.com", "private_key": "{s}"}}', wrap="json-escape"),
    P("h4-lambda-env", "aws", generic_token, '{{"FunctionName":"billing","Environment":{{"Variables":{{"STAGE":"prod","PAYMENT_API_SECRET":"{s}"}}}}}}'),
    P("h4-tfstate", "terraform", human_password, '{{"type":"aws_db_instance","instances":[{{"attributes":{{"engine":"postgres","password":"{s}","username":"app"}}}}]}}'),
    P("h4-jenkins-cred", "ci", human_password, "<com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl><username>deploy</username><password>{s}</password></com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>"),
    P("h4-git-config", "git", github_pat, '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: bearer {s}'),
    P("h4-grafana-env", "config", human_password, "GF_SECURITY_ADMIN_PASSWORD={s}\nGF_SERVER_ROOT_URL=https://grafana.acme.io"),
    P("h4-es-basic-url", "http", human_password, "elasticsearch.hosts: [\"https://elastic:{s}@es01.{h}:9200\"]"),
    P("h4-mongosh", "shell", human_password, "$ mongosh 'mongodb://db.{h}:27017' --username admin --password '{s}' --authenticationDatabase admin"),
    P("h4-openvpn-auth", "config", human_password, "# /etc/openvpn/auth.txt\nvpnuser\n{s}"),
    P("h4-k8s-env-log", "kubernetes", generic_token, "  Environment:\n    DATABASE_URL:  postgres://app@db:5432/app\n    API_SIGNING_KEY:  {s}\n    LOG_LEVEL:  info"),
    P("h4-http-form-body", "http", human_password, "POST /wp-login.php HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nlog=admin&pwd={s}&wp-submit=Log+In", wrap="percent"),
    P("h4-url-token-param", "app", generic_token, "redirecting to https://app.{h}/reset?email=bob%40acme.io&reset_token={s}"),
    P("h4-yaml-b64-secret", "kubernetes", human_password, "kind: Secret\ntype: Opaque\ndata:\n  DB_PASS: {s}", wrap="base64"),
    P("h4-python-settings", "python", generic_token, "settings.py: AWS_SECRET_ACCESS_KEY = os.getenv('AWS_SECRET_ACCESS_KEY', '{s}')"),
]

NEGATIVE4 = [
    P("h4-neg-htpasswd-hash", "nginx", None, "ops:$apr1$Xk9mQ2Lp$7Rv3Tz8Wb1Nc5Hd0Jf6Gs/"),
    P("h4-neg-wg-public", "config", None, "[Peer]\nPublicKey = {b64}=\nAllowedIPs = 10.8.0.2/32"),
    P("h4-neg-4624", "windows", None, "EventID=4624 LogonType=3 TargetUserName={u} AuthenticationPackageName=NTLM LmPackageName=NTLM V2 KeyLength=128"),
    P("h4-neg-tfstate-sensitive", "terraform", None, '{{"type":"aws_db_instance","instances":[{{"sensitive_attributes":[[{{"type":"get_attr","value":"password"}}]]}}]}}'),
    P("h4-neg-form-login", "http", None, "POST /login HTTP/1.1\r\nContent-Length: 42\r\n\r\nusername=bob&remember=1"),
    P("h4-neg-kms-keyid", "aws", None, '{{"eventName":"Decrypt","requestParameters":{{"keyId":"arn:aws:kms:eu-west-1:123456789012:key/{uuid}","encryptionAlgorithm":"SYMMETRIC_DEFAULT"}}}}'),
    P("h4-neg-jwt-claims", "app", None, '{{"sub":"{u}","iss":"https://auth.acme.io","aud":"api","exp":{epoch},"scope":"read:orders"}}'),
    P("h4-neg-secret-mount", "kubernetes", None, "Mounts:\n  /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-x7k2p (ro)"),
    P("h4-neg-password-expiry", "ldap", None, "dn: uid={u},ou=people,dc=acme,dc=io\npasswordExpirationTime: 20270101000000Z\npwdChangedTime: 20261101000000Z"),
    P("h4-neg-api-version", "http", None, "X-Api-Version: 2024-06-20\nX-Request-Id: {uuid}\nX-RateLimit-Remaining: 4999"),
]


# Written on 2026-12-02, after holdout4 had been scored and looked at, before this split was
# scored once (BENCHMARKS.md): shapes not used above.
HOLDOUT5 = [
    P("h5-redis-cli-a", "shell", human_password, "$ redis-cli -h cache.{h} -p 6380 -a '{s}' --no-auth-warning INFO"),
    P("h5-psql-pgpassword", "shell", human_password, "+ PGPASSWORD={s} psql -h {h} -U report -c 'select 1'"),
    P("h5-docker-login-stdin", "ci", github_pat, "$ echo {s} | docker login ghcr.io -u acme-bot --password-stdin"),
    P("h5-ansible-vault-pass", "ci", human_password, "TASK [db : create user] ok: [db1] => (item={{'name': 'app', 'password': '{s}'}})"),
    P("h5-smtp-auth-log", "mail", human_password, "{t} smtp.auth user=alerts@acme.io pass={s} host=smtp.{h}:587 tls=starttls"),
    P("h5-ldap-bind", "ldap", human_password, "$ ldapsearch -x -H ldaps://ldap.{h} -D 'cn=admin,dc=acme,dc=io' -w '{s}' -b 'dc=acme,dc=io'"),
    P("h5-java-props", "java", human_password, "application.properties:\nspring.datasource.url=jdbc:postgresql://{h}:5432/app\nspring.datasource.password={s}"),
    P("h5-dotnet-connstr", "dotnet", human_password, 'ConnectionStrings__Default="Server=sql.{h};Database=Orders;User Id=app;Password={s};TrustServerCertificate=True"'),
    P("h5-helm-set", "kubernetes", human_password, "$ helm upgrade --install pg bitnami/postgresql --set auth.postgresPassword={s} -n data"),
    P("h5-kubectl-secret", "kubernetes", generic_token, "$ kubectl create secret generic api --from-literal=API_TOKEN={s} -n prod"),
    P("h5-npmrc-auth", "ci", npm_token, "//registry.npmjs.org/:_authToken={s}"),
    P("h5-pip-index-url", "python", human_password, "Looking in indexes: https://deploy:{s}@pypi.acme.io/simple"),
    P("h5-curl-user", "shell", human_password, "$ curl -sS -u admin:{s} https://jenkins.{h}/api/json"),
    P("h5-syslog-json-token", "app", slack_bot, '{{"level":"error","msg":"slack post failed","webhook_token":"{s}","status":403}}'),
    P("h5-nginx-query-key", "nginx", google_api_key, '{ip} - - [{t}] "GET /maps/api/geocode/json?address=Berlin&key={s} HTTP/1.1" 200 812'),
    P("h5-env-dump-stripe", "ci", stripe_live, "env | sort\nHOME=/root\nSTRIPE_KEY={s}\nTERM=xterm"),
    P("h5-github-actions-mask-fail", "ci", github_pat, "Run git clone https://x-access-token:{s}@github.com/acme/infra.git"),
    P("h5-mysql-cli-p", "shell", human_password, "$ mysqldump --user=backup --password={s} --all-databases > /backup/all.sql"),
    P("h5-ssh-pass", "shell", human_password, "$ sshpass -p '{s}' ssh ops@{h} uptime"),
    P("h5-openai-python", "python", openai_key, "client = OpenAI(api_key=\"{s}\")  # TODO move to env"),
    P("h5-yaml-nested", "config", human_password, "database:\n  primary:\n    host: {h}\n    credentials:\n      user: app\n      pass: {s}"),
    P("h5-xml-appsetting", "dotnet", generic_token, '<appSettings><add key="PaymentGatewaySecret" value="{s}" /></appSettings>'),
    P("h5-vault-login-out", "shell", vault_token, "Success! You are now authenticated.\nKey                  Value\n---                  -----\ntoken                {s}\ntoken_accessor       {an24}"),
    P("h5-sentry-dsn", "app", lambda r: rs(r, 32, HEX), "SENTRY_DSN=https://{s}@o123456.ingest.sentry.io/4504"),
    P("h5-basic-b64-header-log", "http", human_password, "> GET /metrics HTTP/1.1\n> Authorization: Basic {s}", wrap="base64"),
]

NEGATIVE5 = [
    P("h5-neg-redis-noauth", "shell", None, "$ redis-cli -h cache.{h} -p 6380 PING\nPONG"),
    P("h5-neg-env-names", "ci", None, "env | sort | cut -d= -f1\nAPI_TOKEN\nDB_PASSWORD\nSTRIPE_KEY"),
    P("h5-neg-helm-values-ref", "kubernetes", None, "$ helm upgrade --install pg bitnami/postgresql --set auth.existingSecret=pg-auth -n data"),
    P("h5-neg-mask", "ci", None, "Run git clone https://x-access-token:***@github.com/acme/infra.git"),
    P("h5-neg-curl-no-pass", "shell", None, "$ curl -sS -u admin https://jenkins.{h}/api/json\nEnter host password for user 'admin':"),
    P("h5-neg-sentry-public", "app", None, "Sentry event {sha32} sent to project 4504 (environment=prod)"),
    P("h5-neg-props-ref", "java", None, "spring.datasource.password=${{DB_PASSWORD}}\nspring.datasource.username=app"),
    P("h5-neg-pass-change-event", "ldap", None, "{t} slapd[812]: conn=1042 op=3 MOD dn=\"uid={u},ou=people,dc=acme,dc=io\" attr=userPassword"),
]

# Written on 2026-12-02 in session 3, after holdout5 had been scored and looked at, before this
# split was scored once (BENCHMARKS.md): shapes of real software not used above, and secrets in
# providers' documented formats not drawn before.
def azure_account_key(rng):
    return rs(rng, 86, B64) + "=="


def slack_webhook_path(rng):
    return f"T{rs(rng, 10, UP)}/B{rs(rng, 10, UP)}/{rs(rng, 24)}"


def datadog_key(rng):
    return rs(rng, 32, HEX)


def mailgun_key(rng):
    return "key-" + rs(rng, 32, HEX)


def registry_login(rng):
    return "deploy:" + human_password(rng)


def escaped_pem(rng):
    return pem_key(rng).replace("RSA PRIVATE KEY", "PRIVATE KEY").replace("\n", "\\n").replace("\n", "\\n")


HOLDOUT6 = [
    P("h6-k8s-audit-secret-data", "kubernetes", human_password, '{{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"create","objectRef":{{"resource":"secrets","namespace":"prod","name":"db"}},"requestObject":{{"kind":"Secret","data":{{"password":"{s}"}}}}}}', wrap="base64"),
    P("h6-docker-config-auth", "ci", registry_login, '{{"auths":{{"registry.acme.io":{{"auth":"{s}"}}}}}}', wrap="base64"),
    P("h6-sts-assume-role-json", "aws", aws_secret, '{{\n    "Credentials": {{\n        "AccessKeyId": "ASIA{up16}",\n        "SecretAccessKey": "{s}",\n        "Expiration": "2026-12-02T10:00:00Z"\n    }}\n}}'),
    P("h6-terraform-plan", "ci", human_password, '  # aws_db_instance.main will be created\n  + resource "aws_db_instance" "main" {{\n      + password = "{s}"\n      + username = "admin"'),
    P("h6-go-struct-dump", "go", human_password, "{t} fatal: cannot connect: config={{Host:{h} Port:5432 User:app Password:{s} SSLMode:require}}"),
    P("h6-lombok-tostring", "java", human_password, "DEBUG c.a.b.DbConfig - loaded DataSourceProperties(url=jdbc:mysql://{h}/app, username=app, password={s}, poolSize=10)"),
    P("h6-actuator-env-json", "java", human_password, '{{"name":"spring.mail.password","value":"{s}","origin":"class path resource [application.yml] - 12:15"}}'),
    P("h6-kafka-jaas", "java", human_password, 'sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="svc-orders" password="{s}";'),
    P("h6-git-credentials", "git", github_pat, "$ cat ~/.git-credentials\nhttps://{u}:{s}@github.com"),
    P("h6-invoke-sqlcmd", "powershell", human_password, "PS C:\\> Invoke-Sqlcmd -ServerInstance {h} -Database Sales -Username sa -Password '{s}' -Query 'SELECT 1'"),
    P("h6-envoy-json-auth", "http", jwt, '{{"start_time":"{t}","method":"GET","path":"/v1/orders","authorization":"Bearer {s}","response_code":200}}'),
    P("h6-redis-masterauth", "config", human_password, "# replication\nreplicaof {h} 6379\nmasterauth {s}\nreplica-read-only yes"),
    P("h6-primary-conninfo", "postgresql", human_password, "primary_conninfo = 'host={h} port=5432 user=replicator password={s} application_name=standby1'"),
    P("h6-kcadm-credentials", "shell", human_password, "$ kcadm.sh config credentials --server https://sso.{h} --realm master --user admin --password {s}"),
    P("h6-zip-password", "shell", human_password, "$ zip -r -P {s} backup-2026-11.zip /srv/exports"),
    P("h6-requests-auth-tuple", "python", mailgun_key, 'requests.post("https://api.mailgun.net/v3/acme.io/messages", auth=("api", "{s}"), data=payload)'),
    P("h6-azure-storage-connstr", "dotnet", azure_account_key, "AzureWebJobsStorage=DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={s};EndpointSuffix=core.windows.net"),
    P("h6-gcp-sa-escaped", "gcp", escaped_pem, '{{"type":"service_account","project_id":"acme-prod","private_key_id":"{sha40}","private_key":"{s}","client_email":"ci@acme-prod.iam.gserviceaccount.com"}}'),
    P("h6-slack-webhook-error", "app", slack_webhook_path, "{t} ERROR notifier: POST https://hooks.slack.com/services/{s} returned 404 no_service"),
    P("h6-docker-run-env", "shell", datadog_key, "$ docker run -d --name dd-agent -e DD_API_KEY={s} -e DD_SITE=datadoghq.eu gcr.io/datadoghq/agent:7"),
    P("h6-python-bytes-headers", "python", generic_token, "send: b'GET /v2/reports HTTP/1.1\\r\\nHost: api.{h}\\r\\nX-Api-Key: {s}\\r\\nAccept: */*\\r\\n\\r\\n'"),
    P("h6-cmdkey-pass", "windows", human_password, "C:\\> cmdkey /add:fileserver01 /user:ACME\\svc_backup /pass:{s}"),
    P("h6-celery-broker-url", "python", human_password, "[config]\n.> app:         orders:0x7f3c\n.> transport:   amqp://orders:{s}@rabbit.{h}:5672//"),
    P("h6-wget-http-password", "shell", human_password, "$ wget --http-user=reports --http-password={s} https://files.{h}/export.csv"),
    P("h6-set-cookie-session", "http", session_id, "< HTTP/1.1 302 Found\n< Set-Cookie: JSESSIONID={s}; Path=/app; Secure; HttpOnly\n< Location: /app/home"),
]

NEGATIVE6 = [
    P("h6-neg-go-struct-empty", "go", None, "{t} fatal: cannot connect: config={{Host:{h} Port:5432 User:app Password: SSLMode:require}}"),
    P("h6-neg-actuator-masked", "java", None, '{{"name":"spring.mail.password","value":"******","origin":"class path resource [application.yml] - 12:15"}}'),
    P("h6-neg-kafka-jaas-ref", "java", None, 'sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="svc-orders" password="${{file:/etc/kafka/secrets.properties:password}}";'),
    P("h6-neg-set-cookie-prefs", "http", None, "< Set-Cookie: theme=dark; Path=/; Max-Age=31536000\n< Set-Cookie: lang=en-GB; Path=/"),
    P("h6-neg-docker-creds-store", "ci", None, '{{"auths":{{"registry.acme.io":{{}}}},"credsStore":"desktop"}}'),
    P("h6-neg-terraform-sensitive", "ci", None, '  + resource "aws_db_instance" "main" {{\n      + password = (sensitive value)\n      + username = "admin"'),
    P("h6-neg-conninfo-passfile", "postgresql", None, "primary_conninfo = 'host={h} port=5432 user=replicator passfile=/var/lib/postgresql/.pgpass'"),
    P("h6-neg-k8s-audit-metadata", "kubernetes", None, '{{"kind":"Event","verb":"get","objectRef":{{"resource":"secrets","namespace":"prod","name":"db-creds"}},"responseStatus":{{"code":200}}}}'),
]


# Written in session 3 after holdout6 had been scored, looked at and fixed, and after the near
# rules, before this split was scored once (BENCHMARKS.md).
def azure_ad_secret(rng):
    return rs(rng, 3, AN) + str(rng.randint(0, 9)) + "Q~" + rs(rng, 34, AN + "_~.-")


def pypi_token(rng):
    return "pypi-AgEIcHlwaS5vcmc" + rs(rng, 70, URLSAFE)


def drf_token(rng):
    return rs(rng, 40, HEX)


HOLDOUT7 = [
    P("h7-gitlab-private-token-header", "ci", gitlab_pat, '$ curl -sf -H "PRIVATE-TOKEN: {s}" https://gitlab.acme.io/api/v4/projects/42/pipelines'),
    P("h7-jenkins-aws-configure", "ci", aws_secret, "[Pipeline] sh\n+ aws configure set aws_secret_access_key {s} --profile deploy"),
    P("h7-journal-db-url", "systemd", human_password, "Dec 02 10:00:01 {h} app[812]: starting with --db-url=postgres://app:{s}@db.internal:5432/app"),
    P("h7-haproxy-stats-auth", "config", human_password, "listen stats\n    bind :8404\n    stats enable\n    stats auth admin:{s}"),
    P("h7-nginx-proxy-auth", "nginx", generic_token, '    location /upstream/ {{\n        proxy_set_header Authorization "Bearer {s}";\n    }}'),
    P("h7-cisco-secret", "network", human_password, "!\nusername netops privilege 15 secret 0 {s}\nip ssh version 2\n!"),
    P("h7-mssql-create-login", "mssql", human_password, "{t} spid54 CREATE LOGIN app_rw WITH PASSWORD = N'{s}', CHECK_POLICY = ON;"),
    P("h7-oracle-identified-quoted", "oracle", human_password, 'SQL> ALTER USER scott IDENTIFIED BY "{s}" ACCOUNT UNLOCK;'),
    P("h7-mongo-createuser", "mongodb", human_password, 'test> db.createUser({{user: "app", pwd: "{s}", roles: ["readWrite"]}})'),
    P("h7-redis-acl-setuser", "redis", human_password, "127.0.0.1:6379> ACL SETUSER app on >{s} ~orders:* +@read"),
    P("h7-rabbitmqctl-add-user", "shell", human_password, "$ rabbitmqctl add_user orders '{s}'\nAdding user \"orders\" ..."),
    P("h7-schtasks-rp", "windows", human_password, 'C:\\> schtasks /create /tn "Backup" /tr C:\\backup.cmd /sc daily /ru ACME\\svc_backup /rp {s}'),
    P("h7-powershell-env-secret", "powershell", azure_ad_secret, 'PS> $env:AZURE_CLIENT_SECRET = "{s}"'),
    P("h7-compose-env-list", "docker", human_password, "services:\n  db:\n    image: postgres:16\n    environment:\n      - POSTGRES_USER=app\n      - POSTGRES_PASSWORD={s}"),
    P("h7-kubectl-docker-registry", "kubernetes", human_password, "$ kubectl create secret docker-registry regcred --docker-server=registry.acme.io --docker-username=ci --docker-password={s}"),
    P("h7-az-sp-create", "azure", azure_ad_secret, '{{\n  "appId": "{uuid}",\n  "displayName": "ci-deploy",\n  "password": "{s}",\n  "tenant": "{uuid2}"\n}}'),
    P("h7-heroku-config-set", "shell", stripe_live, "$ heroku config:set STRIPE_SECRET_KEY={s} -a acme-api"),
    P("h7-git-remote-token-user", "git", github_pat, "$ git remote -v\norigin\thttps://{s}@github.com/acme/app.git (fetch)"),
    P("h7-npm-config-set", "shell", npm_token, "$ npm config set //registry.npmjs.org/:_authToken {s}"),
    P("h7-pypirc", "python", pypi_token, "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = {s}"),
    P("h7-terraform-provider-keys", "terraform", aws_secret, 'provider "aws" {{\n  region     = "eu-west-1"\n  access_key = "{kid}"\n  secret_key = "{s}"\n}}'),
    P("h7-ansible-inventory", "ansible", human_password, "[db]\ndb1 ansible_host=10.0.0.5 ansible_user=root ansible_password={s}"),
    P("h7-snmpwalk-v3", "network", human_password, "$ snmpwalk -v3 -u monitor -l authPriv -a SHA -A {s} -x AES 10.0.0.1"),
    P("h7-slapd-rootpw", "ldap", human_password, "database mdb\nsuffix \"dc=acme,dc=io\"\nrootdn \"cn=admin,dc=acme,dc=io\"\nrootpw {s}"),
    P("h7-drf-token-header", "http", drf_token, '{{"ts":"{t}","method":"POST","path":"/api/orders/","headers":{{"Authorization":"Token {s}","Accept":"application/json"}}}}'),
]

NEGATIVE7 = [
    P("h7-neg-redis-acl-nopass", "redis", None, "127.0.0.1:6379> ACL SETUSER metrics on nopass ~* +info"),
    P("h7-neg-slapd-ssha", "ldap", None, "rootdn \"cn=admin,dc=acme,dc=io\"\nrootpw {{SSHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
    P("h7-neg-cisco-type5", "network", None, "username netops privilege 15 secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0"),
    P("h7-neg-json-null-password", "app", None, '{{"user":"{u}","password":null,"mfa":true}}'),
    P("h7-neg-ansible-vault-var", "ansible", None, "db1 ansible_host=10.0.0.5 ansible_user=root ansible_password={{{{ vault_db_password }}}}"),
    P("h7-neg-mssql-windows-login", "mssql", None, "{t} spid54 CREATE LOGIN [ACME\\svc_app] FROM WINDOWS;"),
    P("h7-neg-oracle-lock", "oracle", None, "SQL> ALTER USER scott ACCOUNT LOCK;"),
    P("h7-neg-docker-password-stdin", "ci", None, "$ echo $CI_REGISTRY_PASSWORD | docker login -u ci --password-stdin registry.acme.io"),
]


# Written in session 3 after holdout7 had been scored, looked at and fixed, before this split was
# scored once (BENCHMARKS.md).
def smtp_plain(rng):
    return "\0alerts@acme.io\0" + human_password(rng)


def jupyter_token(rng):
    return rs(rng, 48, HEX)


HOLDOUT8 = [
    P("h8-gcloud-sql-set-password", "gcp", human_password, "$ gcloud sql users set-password app --host=% --instance=prod-pg --password={s}"),
    P("h8-elastic-reset-output", "elastic", human_password, "Password for the [elastic] user successfully reset.\nNew value:\n\n{s}"),
    P("h8-kafka-scram-config", "kafka", human_password, "$ kafka-configs --bootstrap-server b1:9092 --alter --add-config 'SCRAM-SHA-256=[iterations=8192,password={s}]' --entity-type users --entity-name orders"),
    P("h8-cqlsh", "cassandra", human_password, "$ cqlsh -u cassandra -p {s} 10.0.4.12 9042"),
    P("h8-minio-alias", "minio", human_password, "$ mc alias set prod https://minio.acme.io minioadmin {s}"),
    P("h8-aws-login-profile", "aws", human_password, "$ aws iam create-login-profile --user-name bob --password '{s}' --password-reset-required"),
    P("h8-az-sql-admin-password", "azure", human_password, "$ az sql server create -n acme-sql -g prod -l westeurope --admin-user sqladmin --admin-password {s}"),
    P("h8-keytool-storepass", "java", human_password, "$ keytool -importkeystore -srckeystore in.p12 -srcstoretype PKCS12 -srcstorepass {s} -destkeystore out.jks"),
    P("h8-tomcat-users", "java", human_password, '<tomcat-users>\n  <user username="admin" password="{s}" roles="manager-gui"/>\n</tomcat-users>'),
    P("h8-wildfly-add-user", "java", human_password, "$ ./bin/add-user.sh -u admin -p {s} -g admin"),
    P("h8-smtp-auth-plain", "mail", smtp_plain, "{t} postfix/smtpd[2211]: < AUTH PLAIN {s}", wrap="base64"),
    P("h8-imap-login", "mail", human_password, "{t} imapd: C: a1 LOGIN alerts@acme.io {s}"),
    P("h8-ftp-pass", "ftp", human_password, "(000012) {t} - (not logged in) (10.0.0.9)> USER deploy\n(000012) {t} - (not logged in) (10.0.0.9)> PASS {s}"),
    P("h8-sqlplus-connect", "oracle", human_password, "$ sqlplus scott/{s}@//db.acme.io:1521/ORCLPDB1 @report.sql"),
    P("h8-curl-oauth2-bearer", "shell", generic_token, "$ curl --oauth2-bearer {s} https://api.acme.io/v1/me"),
    P("h8-jupyter-token-url", "python", jupyter_token, "    To access the server, open this file in a browser:\n    Or copy and paste one of these URLs:\n        http://127.0.0.1:8888/lab?token={s}"),
    P("h8-ldappasswd", "ldap", human_password, "$ ldappasswd -x -D cn=admin,dc=acme,dc=io -W -s {s} uid=bob,ou=people,dc=acme,dc=io"),
    P("h8-sshpass-env", "shell", human_password, "$ SSHPASS='{s}' sshpass -e ssh ops@{h} uptime"),
    P("h8-kinit-echo", "shell", human_password, "$ echo -n '{s}' | kinit svc-etl@ACME.IO"),
    P("h8-macos-keychain", "macos", human_password, "$ security add-generic-password -a bob -s acme-vpn -w '{s}'"),
    P("h8-nmcli-wifi", "linux", human_password, "$ nmcli dev wifi connect AcmeCorp password {s} ifname wlan0"),
    P("h8-wpa-passphrase", "linux", human_password, "$ wpa_passphrase AcmeCorp '{s}' > /etc/wpa_supplicant.conf"),
    P("h8-vault-token-export", "shell", vault_token, "$ export VAULT_ADDR=https://vault.acme.io VAULT_TOKEN={s}"),
    P("h8-helm-repo-add", "kubernetes", human_password, "$ helm repo add internal https://charts.acme.io --username ci --password {s}"),
    P("h8-kubeconfig-token", "kubernetes", jwt, "users:\n- name: ci\n  user:\n    token: {s}"),
]

NEGATIVE8 = [
    P("h8-neg-elastic-auto", "elastic", None, "$ elasticsearch-reset-password -u elastic --auto --batch"),
    P("h8-neg-imap-masked", "mail", None, "{t} imapd: C: a1 LOGIN alerts@acme.io ********"),
    P("h8-neg-sqlplus-sysdba", "oracle", None, "$ sqlplus / as sysdba @startup.sql"),
    P("h8-neg-keytool-list", "java", None, "$ keytool -list -v -keystore /etc/pki/java/cacerts -alias acme-root"),
    P("h8-neg-minio-vars", "minio", None, "$ mc alias set prod https://minio.acme.io $MINIO_USER $MINIO_PASS"),
    P("h8-neg-ftp-masked", "ftp", None, "(000012) {t} - (not logged in) (10.0.0.9)> PASS ****"),
    P("h8-neg-gcloud-prompt", "gcp", None, "$ gcloud sql users set-password app --host=% --instance=prod-pg --prompt-for-password"),
    P("h8-neg-keychain-find", "macos", None, "$ security find-generic-password -a bob -s acme-vpn"),
]


# Written at the end of session 3, after every fix, and scored once: never tuned on, the split
# that stays held out (BENCHMARKS.md).
def hex_key(rng):
    return rs(rng, 32, HEX)


HOLDOUT9 = [
    P("h9-gcp-audit-setmetadata", "gcp", human_password, '{{"protoPayload":{{"methodName":"v1.compute.instances.setMetadata","request":{{"metadata":{{"items":[{{"key":"db-password","value":"{s}"}}]}}}}}}}}'),
    P("h9-azure-activity-appsettings", "azure", human_password, '{{"operationName":"Microsoft.Web/sites/config/write","properties":{{"requestbody":"{{\\"properties\\":{{\\"DB_PASSWORD\\":\\"{s}\\"}}}}"}}}}'),
    P("h9-gitlab-ci-variable-echo", "ci", generic_token, "$ echo \"deploying with DEPLOY_TOKEN=$DEPLOY_TOKEN\"\ndeploying with DEPLOY_TOKEN={s}"),
    P("h9-argo-cli-login", "kubernetes", human_password, "$ argocd login argocd.acme.io --username admin --password {s} --grpc-web"),
    P("h9-tekton-param", "ci", generic_token, "  params:\n    - name: registry-token\n      value: {s}"),
    P("h9-psql-meta-password", "postgresql", human_password, "app=# \\password reporting\nEnter new password for user \"reporting\": {s}"),
    P("h9-mysql-grant-identified", "mysql", human_password, "{t} 91 Query\tGRANT ALL ON app.* TO 'etl'@'10.%' IDENTIFIED BY '{s}'"),
    P("h9-mssql-sqlcmd-P", "mssql", human_password, "C:\\> sqlcmd -S tcp:db01,1433 -U sa -P \"{s}\" -Q \"SELECT @@VERSION\""),
    P("h9-influx-token-flag", "influxdb", generic_token, "$ influx write --bucket metrics --org acme --token {s} --file data.lp"),
    P("h9-mqtt-client-pw", "iot", human_password, "$ mosquitto_pub -h mqtt.acme.io -u sensor01 -P {s} -t plant/1/temp -m 21.4"),
    P("h9-android-logcat-bearer", "mobile", jwt, "11-30 10:22:31.114  4312  4390 D OkHttp  : Authorization: Bearer {s}"),
    P("h9-ios-keychain-log", "mobile", generic_token, "2026-11-30 10:22:31.114 App[812:4390] [Auth] stored refresh token {s} in keychain"),
    P("h9-stripe-webhook-secret-log", "payments", lambda r: "whsec_" + rs(r, 32), "INFO webhook endpoint configured: url=https://api.acme.io/stripe secret={s}"),
    P("h9-slack-ops-message", "chatops", human_password, "[#ops] bob: db creds for staging are app / {s} (rotate after the demo)"),
    P("h9-vault-kv-get-output", "vault", human_password, "$ vault kv get secret/prod/db\n====== Data ======\nKey         Value\n---         -----\npassword    {s}\nusername    app"),
    P("h9-aws-secretsmanager-output", "aws", human_password, '{{\n    "Name": "prod/db",\n    "SecretString": "{{\\"username\\":\\"app\\",\\"password\\":\\"{s}\\"}}"\n}}'),
    P("h9-1password-cli-read", "shell", human_password, "$ op read op://Infra/prod-db/password\n{s}"),
    P("h9-datadog-agent-yaml", "config", hex_key, "## @param api_key - string - required\napi_key: {s}\nsite: datadoghq.eu"),
    P("h9-sendgrid-curl", "shell", sendgrid, '$ curl -X POST https://api.sendgrid.com/v3/mail/send -H "Authorization: Bearer {s}" -d @mail.json'),
    P("h9-pagerduty-routing-key", "ops", hex_key, '{{"routing_key":"{s}","event_action":"trigger","payload":{{"summary":"disk full"}}}}'),
    P("h9-openvpn-askpass", "vpn", human_password, "$ openvpn --config acme.ovpn --auth-user-pass creds.txt\n$ cat creds.txt\nvpnuser\n{s}"),
    P("h9-sftp-batch-pass", "shell", human_password, "$ lftp -u deploy,{s} sftp://files.acme.io -e 'put build.tgz; bye'"),
    P("h9-powershell-credential-new", "powershell", human_password, "PS> $pw = '{s}' | ConvertTo-SecureString -AsPlainText -Force"),
    P("h9-django-settings-secret-key", "python", lambda r: rs(r, 50, AN + "!@#$%^&*(-_=+)"), "SECRET_KEY = '{s}'"),
    P("h9-rails-credentials-show", "ruby", lambda r: rs(r, 32, HEX), "$ bin/rails credentials:show\nsecret_key_base: {s}\nsmtp:\n  user_name: mailer"),
]

NEGATIVE9 = [
    P("h9-neg-gcp-metadata-ssh", "gcp", None, '{{"protoPayload":{{"methodName":"v1.compute.instances.setMetadata","request":{{"metadata":{{"items":[{{"key":"enable-oslogin","value":"TRUE"}}]}}}}}}}}'),
    P("h9-neg-ci-masked", "ci", None, "deploying with DEPLOY_TOKEN=[MASKED]"),
    P("h9-neg-argo-sso", "kubernetes", None, "$ argocd login argocd.acme.io --sso --grpc-web"),
    P("h9-neg-vault-kv-metadata", "vault", None, "$ vault kv metadata get secret/prod/db\ncreated_time    2026-11-01T10:00:00Z\ncurrent_version 4"),
    P("h9-neg-logcat-no-auth", "mobile", None, "11-30 10:22:31.114  4312  4390 D OkHttp  : --> GET https://api.acme.io/v1/profile http/1.1"),
    P("h9-neg-op-reference", "shell", None, "DB_PASSWORD=op://Infra/prod-db/password"),
    P("h9-neg-datadog-env-ref", "config", None, "api_key: ENC[datadog_api_key]\nsite: datadoghq.eu"),
    P("h9-neg-slack-no-secret", "chatops", None, "[#ops] bob: staging db is up again, creds are in the vault as usual"),
]


# Written at the start of session 5 (2026-12-02), before any detector change of that session and
# before it was scored: shapes of real software not used above. Scored once, after that session's
# fixes, for the held-out figure in BENCHMARKS.md.
def telegram_token(rng):
    return f"{rng.randint(10**8, 10**10)}:AA{rs(rng, 33, URLSAFE)}"


HOLDOUT10 = [
    P("h10-s3cmd-cfg", "config", aws_secret, "[default]\naccess_key = {kid}\nsecret_key = {s}\nhost_base = s3.amazonaws.com"),
    P("h10-restic-env", "shell", human_password, "+ export RESTIC_REPOSITORY=s3:s3.amazonaws.com/acme-backups\n+ export RESTIC_PASSWORD={s}"),
    P("h10-borg-passphrase", "shell", human_password, "Environment=BORG_PASSPHRASE={s} BORG_REPO=ssh://backup@{h}/./repo"),
    P("h10-skopeo-dest-creds", "ci", generic_token, "+ skopeo copy docker://ghcr.io/acme/api:1.4 docker://registry.acme.io/api:1.4 --dest-creds ci-bot:{s}"),
    P("h10-s3-presigned-session", "http", lambda r: "IQoJb3JpZ2luX2VjE" + rs(r, 180, B64), '{ip} - - [{t}] "GET /acme-exports/report.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Security-Token={s}&X-Amz-Signature={sha64} HTTP/1.1" 200 5123'),
    P("h10-openssl-pass-arg", "shell", human_password, "$ openssl enc -aes-256-cbc -salt -pbkdf2 -in dump.sql -out dump.sql.enc -pass pass:{s}"),
    P("h10-7z-password", "shell", human_password, "$ 7z a -t7z -mhe=on -p{s} backup-2026-11.7z /srv/data"),
    P("h10-gpg-passphrase", "shell", human_password, "+ gpg --batch --yes --pinentry-mode loopback --passphrase {s} -d secrets.tar.gpg"),
    P("h10-ps-redis-requirepass", "process", human_password, "redis     1123  0.3  0.1  52000  9000 ?  Ssl  10:01   0:12 redis-server *:6379 --requirepass {s} --appendonly yes"),
    P("h10-jvm-keystore-password", "java", human_password, "exec java -Xmx2g -Djavax.net.ssl.keyStore=/etc/app/ks.p12 -Djavax.net.ssl.keyStorePassword={s} -jar app.jar"),
    P("h10-spring-application-json", "java", human_password, "SPRING_APPLICATION_JSON={{\"spring\":{{\"datasource\":{{\"url\":\"jdbc:mysql://db/app\",\"password\":\"{s}\"}}}}}}"),
    P("h10-ansible-extra-vars", "ansible", human_password, "$ ansible-playbook site.yml -i prod -e \"ansible_become_password={s} deploy_env=prod\""),
    P("h10-consul-token-env", "hashicorp", lambda r: uuid(r), "CONSUL_HTTP_ADDR=https://consul.acme.io:8501\nCONSUL_HTTP_TOKEN={s}"),
    P("h10-telegram-bot-url", "http", telegram_token, "requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://api.telegram.org/bot{s}/sendMessage"),
    P("h10-psexec-p", "windows", human_password, "C:\\Tools> PsExec.exe \\\\APP01 -u ACME\\svc_deploy -p {s} -h cmd /c deploy.bat"),
    P("h10-oauth-client-credentials-body", "http", generic_token, '{{"method":"POST","path":"/oauth2/token","body":"grant_type=client_credentials&client_id=billing-svc&client_secret={s}&scope=invoices"}}'),
    P("h10-mysql-change-source", "mysql", human_password, "{t} 12 Query\tCHANGE REPLICATION SOURCE TO SOURCE_HOST='db-1', SOURCE_USER='repl', SOURCE_PASSWORD='{s}', SOURCE_AUTO_POSITION=1"),
    P("h10-pg-user-mapping", "postgresql", human_password, "{t} UTC [771] LOG:  statement: CREATE USER MAPPING FOR app SERVER legacy_db OPTIONS (user 'legacy', password '{s}');"),
    P("h10-wp-config-define", "php", human_password, "define( 'DB_USER', 'wp' );\ndefine( 'DB_PASSWORD', '{s}' );\ndefine( 'DB_HOST', 'localhost' );"),
    P("h10-gh-secret-set", "github", generic_token, "$ gh secret set NPM_TOKEN --repo acme/web --body {s}"),
    P("h10-smbclient-user-pct", "shell", human_password, "$ smbclient //fs01/finance -U ACME/bob%{s} -c 'ls'"),
    P("h10-mount-cifs-options", "shell", human_password, "$ sudo mount -t cifs //fs01/share /mnt/share -o username=bob,password={s},vers=3.0"),
    P("h10-ipmitool-P", "hardware", human_password, "$ ipmitool -I lanplus -H 10.0.9.21 -U ADMIN -P {s} chassis power status"),
    P("h10-xfreerdp-slash-p", "shell", human_password, "$ xfreerdp /v:jump01.acme.io /u:ACME\\bob /p:{s} /cert:ignore"),
    P("h10-go-mysql-dsn", "go", human_password, "panic: dial tcp: lookup db: no such host (dsn app:{s}@tcp(db:3306)/orders?parseTime=true)"),
    P("h10-cloudtrail-rds-password", "cloudtrail", human_password, '{{"eventName":"ModifyDBInstance","requestParameters":{{"dBInstanceIdentifier":"orders","masterUserPassword":"{s}","applyImmediately":true}}}}'),
    P("h10-vault-write-userpass", "vault", human_password, "$ vault write auth/userpass/users/bob password={s} policies=dev"),
    P("h10-algolia-header", "http", hex_key, "POST /1/indexes/products/query HTTP/1.1\nHost: acme-dsn.algolia.net\nX-Algolia-Application-Id: 4ZQ8KJ2M1P\nX-Algolia-API-Key: {s}"),
]

NEGATIVE10 = [
    P("h10-neg-traefik-htpasswd", "config", None, "traefik.http.middlewares.auth.basicauth.users=admin:$$apr1$$H6uskkkW$$IgXLP6ewTrSuBkTrqE8wj/"),
    P("h10-neg-cloudtrail-hidden", "cloudtrail", None, '{{"eventName":"ModifyDBInstance","requestParameters":{{"dBInstanceIdentifier":"orders","masterUserPassword":"HIDDEN_DUE_TO_SECURITY_REASONS"}}}}'),
    P("h10-neg-openssl-pass-env", "shell", None, "$ openssl enc -aes-256-cbc -pbkdf2 -in dump.sql -out dump.sql.enc -pass env:BACKUP_PASS"),
    P("h10-neg-gpg-passphrase-file", "shell", None, "+ gpg --batch --pinentry-mode loopback --passphrase-file /run/secrets/gpg -d secrets.tar.gpg"),
    P("h10-neg-cifs-credentials-file", "shell", None, "$ sudo mount -t cifs //fs01/share /mnt/share -o credentials=/root/.smbcred,vers=3.0"),
    P("h10-neg-ipmitool-env", "hardware", None, "$ IPMI_PASSWORD=$(vault kv get -field=pw hw/ipmi) ipmitool -I lanplus -H 10.0.9.21 -U ADMIN -E chassis power status"),
    P("h10-neg-change-source-nopw", "mysql", None, "{t} 12 Query\tCHANGE REPLICATION SOURCE TO SOURCE_HOST='db-1', SOURCE_USER='repl', SOURCE_SSL=1"),
    P("h10-neg-consul-accessor", "hashicorp", None, '{{"AccessorID":"{uuid}","Description":"deploy token","Policies":[{{"Name":"deploy"}}],"CreateTime":"2026-11-30T10:00:00Z"}}'),
]


# Written at the end of session 5, after holdout10 had been scored, read and fixed, and
# before this split was scored once (BENCHMARKS.md): never tuned on, the split that stays held
# out. Mail, package-manager and server configs, and credentials passed positionally in code.
def cratesio_token(rng):
    return "cio" + rs(rng, 32)


def b64_secret(rng):
    return base64.b64encode(bytes(rng.randrange(256) for _ in range(32))).decode()


HOLDOUT11 = [
    P("h11-terraform-hcl-password", "terraform", human_password, 'resource "aws_db_instance" "orders" {{\n  engine   = "postgres"\n  username = "orders"\n  password = "{s}"\n}}'),
    P("h11-nomad-template", "hashicorp", human_password, 'template {{\n  data        = "DB_PASSWORD={s}"\n  destination = "secrets/db.env"\n}}'),
    P("h11-squid-cache-peer", "proxy", human_password, "cache_peer parent.acme.io parent 3128 0 no-query default login=squid:{s}"),
    P("h11-postfix-sasl-passwd", "mail", human_password, "[smtp.sendgrid.net]:587 apikey:{s}"),
    P("h11-fetchmailrc", "mail", human_password, 'poll imap.acme.io protocol IMAP user "bob@acme.io" password "{s}" ssl'),
    P("h11-msmtprc", "mail", human_password, "account default\nhost smtp.acme.io\nport 587\nuser alerts@acme.io\npassword {s}"),
    P("h11-mutt-smtp-url", "mail", human_password, 'set smtp_url = "smtp://bob@acme.io:{s}@smtp.acme.io:587/"'),
    P("h11-rsync-password-env", "shell", human_password, "0 2 * * * RSYNC_PASSWORD={s} rsync -av /srv/ backup@{h}::nightly"),
    P("h11-git-credential-fill", "git", github_pat, "$ git credential fill\nprotocol=https\nhost=github.com\nusername=bob\npassword={s}"),
    P("h11-maven-settings-server", "java", human_password, "<server>\n  <id>nexus-releases</id>\n  <username>ci</username>\n  <password>{s}</password>\n</server>"),
    P("h11-gradle-properties", "java", human_password, "signing.keyId=24875D73\nsigning.password={s}\nossrhUsername=acme"),
    P("h11-composer-auth-json", "php", human_password, '{{"http-basic":{{"repo.acme.io":{{"username":"ci","password":"{s}"}}}}}}'),
    P("h11-cargo-credentials", "rust", cratesio_token, '[registry]\ntoken = "{s}"'),
    P("h11-nuget-cleartext", "dotnet", human_password, '<packageSourceCredentials>\n  <acme>\n    <add key="Username" value="ci" />\n    <add key="ClearTextPassword" value="{s}" />\n  </acme>\n</packageSourceCredentials>'),
    P("h11-yarnrc-npm-auth", "node", npm_token, 'npmRegistryServer: "https://npm.acme.io"\nnpmAuthToken: {s}'),
    P("h11-docker-inspect-env", "docker", human_password, '"Env": [\n    "PATH=/usr/local/sbin:/usr/local/bin",\n    "MARIADB_ROOT_PASSWORD={s}",\n    "GOSU_VERSION=1.17"\n],'),
    P("h11-systemd-execstart-flag", "systemd", human_password, "ExecStart=/usr/local/bin/exporter --web.listen-address=:9104 --db-password={s}"),
    P("h11-logstash-jdbc", "logstash", human_password, 'input {{ jdbc {{ jdbc_user => "etl" jdbc_password => "{s}" statement => "SELECT 1" }} }}'),
    P("h11-grafana-secure-json", "grafana", human_password, "datasources:\n  - name: pg\n    user: grafana\n    secureJsonData:\n      password: {s}"),
    P("h11-wmic-password", "windows", human_password, "C:\\> wmic /node:srv02 /user:ACME\\admin /password:{s} process list brief"),
    P("h11-python-smtplib-login", "python", human_password, 'server = smtplib.SMTP("smtp.acme.io", 587); server.starttls(); server.login("alerts@acme.io", "{s}")'),
    P("h11-php-mysqli-connect", "php", human_password, '$db = mysqli_connect("db.internal", "shop", "{s}", "shop");'),
    P("h11-java-getconnection", "java", human_password, 'Connection c = DriverManager.getConnection("jdbc:mysql://db/app", "app", "{s}");'),
    P("h11-dotnet-networkcredential", "dotnet", human_password, 'client.Credentials = new NetworkCredential("svc_mail", "{s}");'),
    P("h11-keepalived-auth-pass", "config", lambda r: rs(r, 8), "authentication {{\n    auth_type PASS\n    auth_pass {s}\n}}"),
    P("h11-bind-tsig-secret", "dns", b64_secret, 'key "rndc-key" {{\n    algorithm hmac-sha256;\n    secret "{s}";\n}};'),
    P("h11-freeradius-client", "radius", human_password, "client vpn01 {{\n    ipaddr = 10.0.8.1\n    secret = {s}\n}}"),
    P("h11-x11vnc-passwd", "shell", human_password, "$ x11vnc -display :0 -forever -passwd {s} -rfbport 5900"),
]

NEGATIVE11 = [
    P("h11-neg-maven-env-ref", "java", None, "<server>\n  <id>nexus</id>\n  <username>ci</username>\n  <password>${{env.NEXUS_PASSWORD}}</password>\n</server>"),
    P("h11-neg-keepalived-type", "config", None, "authentication {{\n    auth_type PASS\n}}"),
    P("h11-neg-node-env-password", "node", None, "const pool = new Pool({{ user: 'app', password: process.env.DB_PASSWORD, host: 'db' }});"),
    P("h11-neg-php-variable", "php", None, '$db = mysqli_connect("db.internal", "shop", $password, "shop");'),
    P("h11-neg-java-getenv", "java", None, 'Connection c = DriverManager.getConnection(url, user, System.getenv("DB_PASS"));'),
    P("h11-neg-bind-include", "dns", None, 'include "/etc/bind/rndc.key";\ncontrols {{ inet 127.0.0.1 allow {{ localhost; }} keys {{ "rndc-key"; }}; }};'),
    P("h11-neg-grafana-file-provider", "grafana", None, "secureJsonData:\n  password: $__file{{/run/secrets/grafana_pg}}"),
    P("h11-neg-yarnrc-ref", "node", None, 'npmAuthToken: "${{NPM_TOKEN}}"'),
]


# Written at the end of session 5, after holdout11 had been scored, read and fixed, and before
# this split was scored once (BENCHMARKS.md): cluster bootstrap output, secret-printing CLIs,
# directory and network tooling.
def swarm_token(rng):
    return "SWMTKN-1-" + rs(rng, 50, LOW) + "-" + rs(rng, 25, LOW)


def kubeadm_token(rng):
    return rs(rng, 6, LOW) + "." + rs(rng, 16, LOW)


def pem_b64(rng):
    body = "-----BEGIN RSA PRIVATE KEY-----\n" + rs(rng, 64, B64) + "\n-----END RSA PRIVATE KEY-----\n"
    return base64.b64encode(body.encode()).decode()


def vault_unseal(rng):
    return base64.b64encode(bytes(rng.randrange(256) for _ in range(33))).decode()


HOLDOUT12 = [
    P("h12-kubeconfig-client-key", "kubernetes", pem_b64, "users:\n- name: admin\n  user:\n    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n    client-key-data: {s}"),
    P("h12-docker-swarm-join", "docker", swarm_token, "$ docker swarm join --token {s} 10.0.4.2:2377"),
    P("h12-kubeadm-join", "kubernetes", kubeadm_token, "kubeadm join 10.0.4.2:6443 --token {s} --discovery-token-ca-cert-hash sha256:{sha64}"),
    P("h12-consul-acl-bootstrap", "hashicorp", lambda r: uuid(r), "AccessorID:       {uuid}\nSecretID:         {s}\nDescription:      Bootstrap Token (Global Management)"),
    P("h12-vault-operator-init-unseal", "vault", vault_unseal, "Unseal Key 1: {s}\nUnseal Progress: 0/3"),
    P("h12-vault-operator-init-root", "vault", lambda r: "hvs." + rs(r, 24), "Initial Root Token: {s}\n\nVault initialized with 5 key shares and a key threshold of 3."),
    P("h12-heroku-auth-token", "shell", lambda r: uuid(r), "$ heroku auth:token\n {s}"),
    P("h12-npm-token-create", "node", npm_token, "\u250c\u2500\u2500\u2500\u2500\u2500\u2500\u2510\n\u2502 token    \u2502 {s} \u2502\n\u2502 readonly \u2502 false \u2502"),
    P("h12-wp-cli-user-pass", "php", human_password, "$ wp user create editor editor@acme.io --role=editor --user_pass={s}"),
    P("h12-mysqladmin-password-subcommand", "mysql", human_password, "$ mysqladmin -u root password '{s}'"),
    P("h12-ldif-userpassword", "ldap", human_password, "dn: uid=bob,ou=people,dc=acme,dc=io\nchangetype: modify\nreplace: userPassword\nuserPassword: {s}"),
    P("h12-tf-var-env", "terraform", human_password, "+ export TF_VAR_db_password={s}\n+ terraform apply -auto-approve"),
    P("h12-rabbitmqadmin", "rabbitmq", human_password, "$ rabbitmqadmin -H mq.acme.io -u admin -p {s} list queues"),
    P("h12-snmp-community", "network", lambda r: rs(r, 14, AN), "$ snmpwalk -v2c -c {s} 10.0.9.1 1.3.6.1.2.1.1"),
    P("h12-curl-proxy-user", "shell", human_password, "$ curl --proxy http://proxy.acme.io:3128 --proxy-user bob:{s} https://example.org/"),
    P("h12-git-extraheader-basic", "git", lambda r: base64.b64encode(("x-access-token:" + "ghs_" + rs(r, 36)).encode()).decode(), '$ git -c http.extraheader="AUTHORIZATION: basic {s}" clone https://github.com/acme/api'),
    P("h12-websocket-token-query", "http", jwt, '{ip} - - [{t}] "GET /socket?token={s} HTTP/1.1" 101 0'),
    P("h12-elastic-password-env", "docker", human_password, "$ docker run -d -e ELASTIC_PASSWORD={s} -e discovery.type=single-node elasticsearch:8.15.0"),
    P("h12-redis-sentinel-auth", "redis", human_password, "sentinel monitor mymaster 10.0.0.5 6379 2\nsentinel auth-pass mymaster {s}"),
    P("h12-pgbouncer-userlist", "postgresql", human_password, '"app" "{s}"\n"stats" "md5a3556571e93b0d20722ba62be61e8c2d"'),
    P("h12-jupyter-server-config-json", "python", lambda r: rs(r, 48, HEX), '{{"IdentityProvider": {{"hashed_password": "argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"}}, "ServerApp": {{"token": "{s}"}}}}'),
    P("h12-aws-ecr-login-password", "aws", lambda r: "eyJwYXlsb2FkIjoi" + rs(r, 200, B64), "$ aws ecr get-login-password --region eu-west-1\n{s}"),
    P("h12-gh-auth-token", "github", lambda r: "gho_" + rs(r, 36), "$ gh auth token\n{s}"),
    P("h12-php-ini-smtp", "php", human_password, "[mail function]\nSMTP = smtp.acme.io\nsmtp_port = 587\nauth_password = {s}"),
    P("h12-cisco-enable-secret-0", "network", human_password, "router(config)# enable secret 0 {s}"),
    P("h12-openldap-bind-cli", "ldap", human_password, "$ ldapwhoami -x -H ldaps://ldap.acme.io -D 'cn=admin,dc=acme,dc=io' -w {s}"),
    P("h12-systemd-creds-literal", "systemd", human_password, "[Service]\nSetCredential=db-password:{s}\nExecStart=/usr/bin/app"),
    P("h12-nginx-auth-request-header", "nginx", generic_token, 'proxy_set_header X-Internal-Auth "{s}";'),
]

NEGATIVE12 = [
    P("h12-neg-kubeadm-token-list", "kubernetes", None, "TOKEN                     TTL   EXPIRES                USAGES\n<none>"),
    P("h12-neg-vault-init-flags", "vault", None, "$ vault operator init -key-shares=5 -key-threshold=3 -format=json > /secure/init.json"),
    P("h12-neg-snmpv3-env", "network", None, "$ snmpwalk -v3 -l authPriv -u monitor -a SHA -A \"$SNMP_AUTH\" -x AES -X \"$SNMP_PRIV\" 10.0.9.1"),
    P("h12-neg-git-credential-helper", "git", None, "$ git -c credential.helper=store clone https://github.com/acme/api"),
    P("h12-neg-ldif-hashed", "ldap", None, "dn: uid=bob,ou=people,dc=acme,dc=io\nuserPassword: {{SSHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
    P("h12-neg-consul-secretid-redacted", "hashicorp", None, "AccessorID:       {uuid}\nSecretID:         <hidden>\nDescription:      deploy"),
    P("h12-neg-elastic-password-file", "docker", None, "$ docker run -d -e ELASTIC_PASSWORD_FILE=/run/secrets/elastic elasticsearch:8.15.0"),
    P("h12-neg-pgbouncer-md5", "postgresql", None, '"stats" "md5a3556571e93b0d20722ba62be61e8c2d"'),
]


# Written late in session 5, after holdout12 had been scored, read and fixed, and before this
# split was scored once (BENCHMARKS.md): CI and app configs, connectors, device configs.
def azdo_pat(rng):
    return rs(rng, 52, "abcdefghijklmnopqrstuvwxyz234567")


HOLDOUT13 = [
    P("h13-gha-env-literal", "ci", lambda r: "npm_" + rs(r, 36), "jobs:\n  publish:\n    env:\n      NODE_AUTH_TOKEN: {s}\n    steps:\n      - run: npm publish"),
    P("h13-circleci-environment", "ci", aws_secret, "    environment:\n      AWS_ACCESS_KEY_ID: {kid}\n      AWS_SECRET_ACCESS_KEY: {s}"),
    P("h13-serverless-env", "config", human_password, "provider:\n  name: aws\n  environment:\n    DB_PASS: {s}\n    STAGE: prod"),
    P("h13-gradle-store-password", "android", human_password, "RELEASE_STORE_FILE=release.keystore\nRELEASE_STORE_PASSWORD={s}\nRELEASE_KEY_ALIAS=upload"),
    P("h13-fastlane-match-password", "ios", human_password, "+ export MATCH_PASSWORD={s}\n+ bundle exec fastlane match appstore --readonly"),
    P("h13-nagios-resource-macro", "monitoring", human_password, "$USER1$=/usr/lib/nagios/plugins\n$USER3$={s}"),
    P("h13-prometheus-bearer-token", "monitoring", generic_token, "  - job_name: api\n    bearer_token: {s}\n    static_configs:\n      - targets: ['api:9100']"),
    P("h13-kafka-connect-password", "kafka", human_password, '{{"name":"pg-sink","config":{{"connector.class":"io.confluent.connect.jdbc.JdbcSinkConnector","connection.user":"etl","connection.password":"{s}"}}}}'),
    P("h13-debezium-database-password", "kafka", human_password, '{{"database.hostname":"db","database.user":"cdc","database.password":"{s}","topic.prefix":"orders"}}'),
    P("h13-hibernate-properties", "java", human_password, "hibernate.connection.username=app\nhibernate.connection.password={s}\nhibernate.dialect=org.hibernate.dialect.PostgreSQLDialect"),
    P("h13-django-databases-dict", "python", human_password, "DATABASES = {{'default': {{'ENGINE': 'django.db.backends.postgresql', 'NAME': 'shop', 'USER': 'shop', 'PASSWORD': '{s}', 'HOST': 'db'}}}}"),
    P("h13-knexfile-connection", "node", human_password, "module.exports = {{ client: 'pg', connection: {{ host: 'db', user: 'app', password: '{s}', database: 'app' }} }};"),
    P("h13-expect-send-password", "shell", human_password, 'expect "password:"\nsend "{s}\\r"\nexpect "$ "'),
    P("h13-windows-unattend", "windows", human_password, "<AdministratorPassword>\n  <Value>{s}</Value>\n  <PlainText>true</PlainText>\n</AdministratorPassword>"),
    P("h13-cisco-asa-username", "network", human_password, "ciscoasa(config)# username netadmin password {s} privilege 15"),
    P("h13-mikrotik-user-add", "network", human_password, "[admin@MikroTik] > /user add name=ops group=full password={s}"),
    P("h13-keycloak-set-password", "keycloak", human_password, "$ kcadm.sh set-password -r acme --username bob --new-password {s}"),
    P("h13-oc-login", "kubernetes", human_password, "$ oc login https://api.ocp.acme.io:6443 -u developer -p {s}"),
    P("h13-azure-devops-pat-env", "ci", azdo_pat, "##[debug]Setting AZURE_DEVOPS_EXT_PAT={s}"),
    P("h13-auth0-client-secret-env", "config", lambda r: rs(r, 64, URLSAFE), "AUTH0_DOMAIN=acme.eu.auth0.com\nAUTH0_CLIENT_ID={an24}\nAUTH0_CLIENT_SECRET={s}"),
    P("h13-mongodb-keyfile-content", "mongodb", lambda r: rs(r, 756, B64)[:64], "$ cat /etc/mongo/keyfile\n{s}"),
    P("h13-sqlalchemy-url-log", "python", human_password, "INFO sqlalchemy.engine: create_engine('mysql+pymysql://report:{s}@db.internal/analytics')"),
    P("h13-ftp-url-in-cron", "shell", human_password, "15 4 * * * wget -q ftp://backup:{s}@ftp.acme.io/dump.sql.gz -O /tmp/dump.sql.gz"),
    P("h13-ansible-vault-password-file-echo", "ansible", human_password, "$ echo '{s}' > ~/.vault_pass.txt && chmod 600 ~/.vault_pass.txt"),
    P("h13-java-keystore-props", "java", human_password, "server.ssl.key-store=classpath:keystore.p12\nserver.ssl.key-store-password={s}\nserver.ssl.key-alias=tomcat"),
    P("h13-dotnet-user-secrets-set", "dotnet", human_password, '$ dotnet user-secrets set "Smtp:Password" "{s}"'),
    P("h13-vercel-env-add-echo", "shell", human_password, "$ echo '{s}' | vercel env add DATABASE_PASSWORD production"),
    P("h13-http-basic-in-nginx-log", "nginx", lambda r: base64.b64encode(("admin:" + human_password(r)).encode()).decode(), '{ip} - admin [{t}] "GET /admin HTTP/1.1" 200 512 "-" "curl/8.5" "Basic {s}"'),
]

NEGATIVE13 = [
    P("h13-neg-jenkins-encrypted", "ci", None, "<password>{{AQAAABAAAAAQx8VvYzqF0fN3D1b4K8cZoD7x9Rw2Lk4TqWz5e6U1hXs=}}</password>"),
    P("h13-neg-spring-cipher", "java", None, "spring.datasource.password={{cipher}}AQBc3F9xZ2xK7mLp4qR8sT0vW1yZ3aB5cD7eF9gH1iJ3kL5mN7oP9qR1sT3uV5wX7yZ9"),
    P("h13-neg-rails-erb", "ruby", None, "production:\n  password: <%= ENV['DATABASE_PASSWORD'] %>"),
    P("h13-neg-juniper-encrypted", "network", None, 'set system root-authentication encrypted-password "$6$Qx0z$9pG1nJ4rT7wY2bE5hK8mP1sV4xA7dG0jL3oR6uZ9cF2iN5qT8wB1eH4kM7pS0vY3"'),
    P("h13-neg-nagios-paths", "monitoring", None, "$USER1$=/usr/lib/nagios/plugins\n$USER2$=/usr/lib/nagios/eventhandlers"),
    P("h13-neg-mongo-keyfile-path", "mongodb", None, "security:\n  keyFile: /etc/mongo/keyfile\n  authorization: enabled"),
    P("h13-neg-dotnet-user-secrets-list", "dotnet", None, "$ dotnet user-secrets list\nNo secrets configured for this application."),
    P("h13-neg-gha-secret-ref", "ci", None, "    env:\n      NODE_AUTH_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}"),
]


# Written at the end of session 5, after holdout13 had been scored, read and fixed, and before
# this split was scored once (BENCHMARKS.md): structured logs of other stacks, event records,
# and services named next to their keys.
HOLDOUT14 = [
    P("h14-zap-json-log", "go", generic_token, '{{"level":"debug","ts":1733130000.12,"caller":"client/http.go:88","msg":"outgoing request","url":"https://api.acme.io/v2","headers":{{"X-Api-Key":["{s}"]}}}}'),
    P("h14-rust-tracing-span", "rust", human_password, "2026-12-02T10:00:00.123Z DEBUG connect{{host=db.internal user=app password={s}}}: sqlx::postgres: connecting"),
    P("h14-journal-export-json", "systemd", human_password, '{{"_SYSTEMD_UNIT":"backup.service","MESSAGE":"restic backup started, RESTIC_PASSWORD={s} repo=s3:backups"}}'),
    P("h14-windows-4688-cmdline", "windows", human_password, "<Data Name='CommandLine'>net use \\\\fs01\\share /user:ACME\\svc_backup {s}</Data>"),
    P("h14-k8s-event-message", "kubernetes", human_password, 'Warning  Failed  pod/api-7d9  Error: failed to start container "api": env DB_PASSWORD={s} rejected by policy'),
    P("h14-envoy-access-log-header", "envoy", generic_token, '[2026-12-02T10:00:00.000Z] "GET /v1/items HTTP/1.1" 200 - 0 512 3 2 "-" "okhttp/4.12" "x-auth-token: {s}" "items.internal"'),
    P("h14-graylog-gelf", "logging", human_password, '{{"version":"1.1","host":"app01","short_message":"login attempt","_user":"bob","_password":"{s}","level":6}}'),
    P("h14-fluentbit-record", "logging", generic_token, '[0] kube.var.log: [1733130000.0, {{"log":"token refreshed: access_token={s} expires_in=3600","stream":"stdout"}}]'),
    P("h14-sentry-breadcrumb", "app", human_password, '{{"breadcrumbs":[{{"category":"http","data":{{"url":"/login","body":"user=bob&pwd={s}"}}}}]}}'),
    P("h14-php-error-log-pdo", "php", human_password, "PHP Fatal error:  Uncaught PDOException: SQLSTATE[HY000] [1045] in /var/www/db.php:12\nStack trace:\n#0 /var/www/db.php(12): PDO->__construct('mysql:host=db;dbname=shop', 'shop', '{s}')"),
    P("h14-ruby-exception-args", "ruby", human_password, "Mysql2::Error: Access denied for user 'app'@'10.0.0.9' (using password: YES)\n  from lib/db.rb:8:in `connect': Mysql2::Client.new(host: 'db', username: 'app', password: '{s}')"),
    P("h14-dotnet-exception-connstr", "dotnet", human_password, "System.Data.SqlClient.SqlException (0x80131904): Login failed for user 'app'.\n   ConnectionString: Data Source=db01;Initial Catalog=erp;User Id=app;Password={s};"),
    P("h14-airflow-task-log", "airflow", human_password, "[2026-12-02, 10:00:00 UTC] {{base.py:83}} INFO - Using connection ID 'pg_dwh' for task execution.\n[2026-12-02, 10:00:00 UTC] {{sql.py:418}} INFO - Running statement: ALTER USER etl PASSWORD '{s}'"),
    P("h14-dbt-profiles", "dbt", human_password, "dwh:\n  target: prod\n  outputs:\n    prod:\n      type: snowflake\n      user: DBT\n      password: {s}"),
    P("h14-turso-token-env", "config", lambda r: "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9." + b64url(json.dumps({"a": "rw", "iat": 1733130000, "id": rs(r, 12)}).encode()) + "." + rs(r, 86, URLSAFE), "TURSO_DATABASE_URL=libsql://app-acme.turso.io\nTURSO_AUTH_TOKEN={s}"),
    P("h14-svix-secret", "config", lambda r: "whsec_" + base64.b64encode(bytes(r.randrange(256) for _ in range(24))).decode(), "svix webhook configured for endpoint ep_2Kq with signing secret {s}"),
    P("h14-inngest-signing-key", "config", lambda r: "signkey-prod-" + rs(r, 64, HEX), "INNGEST_ENV=production\nINNGEST_SIGNING_KEY={s}"),
    P("h14-upstash-redis-rest", "config", lambda r: "A" + rs(r, 59, AN), "UPSTASH_REDIS_REST_URL=https://eu1-calm-fox-31337.upstash.io\nUPSTASH_REDIS_REST_TOKEN={s}"),
    P("h14-pinata-jwt", "web3", jwt, 'curl -H "Authorization: Bearer {s}" https://api.pinata.cloud/data/testAuthentication'),
    P("h14-coinmarketcap-header", "http", lambda r: uuid(r), "GET /v1/cryptocurrency/listings/latest HTTP/1.1\nHost: pro-api.coinmarketcap.com\nX-CMC_PRO_API_KEY: {s}"),
    P("h14-weatherapi-query", "http", hex_key, '{ip} - - [{t}] "GET /v1/current.json?key={s}&q=London HTTP/1.1" 200 1234'),
    P("h14-xml-config-connection", "java", human_password, '<bean id="ds" class="org.apache.commons.dbcp2.BasicDataSource">\n  <property name="username" value="app"/>\n  <property name="password" value="{s}"/>\n</bean>'),
    P("h14-camel-route-uri", "java", human_password, 'from("sftp://etl@files.acme.io/inbox?password={s}&delete=true")'),
    P("h14-mqtt-url", "iot", human_password, "connecting to mqtts://sensor42:{s}@broker.acme.io:8883"),
    P("h14-amqp-url-env", "config", human_password, "CELERY_BROKER_URL=amqps://worker:{s}@mq.acme.io:5671/prod"),
    P("h14-ldap-url-bind", "ldap", human_password, 'AUTH_LDAP_BIND_DN = "cn=svc,dc=acme,dc=io"\nAUTH_LDAP_BIND_PASSWORD = "{s}"'),
    P("h14-saml-idp-cert-key", "auth", pem_key, "SAML_SP_PRIVATE_KEY=\"{s}\""),
    P("h14-cloudflare-tunnel-token", "cloudflare", lambda r: "eyJhIjoi" + rs(r, 150, B64), "$ cloudflared service install {s}"),
]

NEGATIVE14 = [
    P("h14-neg-zap-redacted", "go", None, '{{"level":"debug","msg":"outgoing request","headers":{{"X-Api-Key":["[REDACTED]"]}}}}'),
    P("h14-neg-tracing-no-pw", "rust", None, "2026-12-02T10:00:00.123Z DEBUG connect{{host=db.internal user=app}}: sqlx::postgres: connecting"),
    P("h14-neg-4688-no-secret", "windows", None, "<Data Name='CommandLine'>net use \\\\fs01\\share /user:ACME\\svc_backup /savecred</Data>"),
    P("h14-neg-envoy-request-id", "envoy", None, '[2026-12-02T10:00:00.000Z] "GET /v1/items HTTP/1.1" 200 - 0 512 3 2 "-" "okhttp/4.12" "x-request-id: {uuid}" "items.internal"'),
    P("h14-neg-mysql-using-password", "ruby", None, "Mysql2::Error: Access denied for user 'app'@'10.0.0.9' (using password: YES)"),
    P("h14-neg-dbt-env-var", "dbt", None, "      password: \"{{{{ env_var('DBT_PASSWORD') }}}}\""),
    P("h14-neg-svix-endpoint-id", "config", None, "svix webhook configured for endpoint ep_2Kq8JbXw6m1tZ9vYcR4sLp"),
    P("h14-neg-xml-password-placeholder", "java", None, '<property name="password" value="${{db.password}}"/>'),
]


# Written at the very end of session 5, after holdout14 had been scored, read and fixed, and
# before this split was scored once (BENCHMARKS.md): people's words, exports and dumps.
HOLDOUT15 = [
    P("h15-support-ticket", "prose", human_password, "Ticket #48213 (bob@acme.io): Hi, I reset my VPN password to {s} but it still says access denied. Please help."),
    P("h15-jira-comment", "prose", generic_token, "[ACME-912] comment by carol: the staging API key is {s} - please rotate it after the release"),
    P("h15-email-forward", "prose", human_password, "From: it-helpdesk@acme.io\nSubject: Your temporary credentials\n\nUsername: dave\nTemporary password: {s}\nYou will be asked to change it."),
    P("h15-teams-message", "chatops", human_password, "[10:42] Erin: wifi for the offsite is AcmeGuest, passcode {s}"),
    P("h15-sql-dump-insert", "sql", human_password, "INSERT INTO `service_accounts` (`id`, `name`, `password`) VALUES (7, 'reporting', '{s}');"),
    P("h15-csv-export", "export", human_password, "name,host,username,password,notes\nbilling-db,db1.acme.io,billing,{s},rotate quarterly"),
    P("h15-har-request-header", "export", generic_token, '{{"request":{{"method":"GET","url":"https://api.acme.io/v1/me","headers":[{{"name":"Authorization","value":"Token {s}"}}]}}}}'),
    P("h15-postman-env", "export", generic_token, '{{"key":"apiToken","value":"{s}","type":"secret","enabled":true}}'),
    P("h15-insomnia-auth", "export", human_password, '{{"_type":"request","authentication":{{"type":"basic","username":"admin","password":"{s}"}}}}'),
    P("h15-tfvars", "terraform", human_password, 'region      = "eu-west-1"\ndb_username = "app"\ndb_password = "{s}"'),
    P("h15-pulumi-config-plain", "pulumi", human_password, "config:\n  aws:region: eu-west-1\n  app:dbPassword: {s}"),
    P("h15-helm-values-nested", "kubernetes", human_password, "postgresql:\n  auth:\n    username: app\n    password: {s}\n    database: app"),
    P("h15-ansible-group-vars", "ansible", human_password, "---\nmysql_root_password: {s}\nmysql_databases:\n  - name: app"),
    P("h15-chef-databag-json", "chef", human_password, '{{"id": "mysql", "root_password": "{s}", "port": 3306}}'),
    P("h15-puppet-hiera", "puppet", human_password, "profile::db::password: '{s}'\nprofile::db::user: 'app'"),
    P("h15-salt-pillar", "salt", human_password, "postgres:\n  users:\n    app:\n      password: '{s}'"),
    P("h15-docker-compose-environment-map", "docker", human_password, "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: {s}"),
    P("h15-kustomize-secret-generator", "kubernetes", human_password, "secretGenerator:\n- name: db\n  literals:\n  - password={s}"),
    P("h15-cloud-init-users", "config", human_password, "#cloud-config\nusers:\n  - name: ops\n    plain_text_passwd: {s}\n    lock_passwd: false"),
    P("h15-ipmi-web-form-log", "http", human_password, '{ip} - - [{t}] "POST /cgi/login.cgi HTTP/1.1" 200 - "name=ADMIN&pwd={s}"'),
    P("h15-graphql-mutation-log", "app", human_password, '{{"query":"mutation Login($u: String!, $p: String!) {{ login(username: $u, password: $p) {{ token }} }}","variables":{{"u":"bob","p":"{s}"}}}}'),
    P("h15-websocket-auth-frame", "app", generic_token, '> {{"op":"auth","args":["{an24}","{s}"]}}'),
    P("h15-redis-monitor-auth", "redis", human_password, '1733130000.123456 [0 10.0.0.7:51234] "AUTH" "default" "{s}"'),
    P("h15-mongo-log-createuser", "mongodb", human_password, '{{"t":{{"$date":"2026-12-02T10:00:00Z"}},"c":"COMMAND","msg":"Slow query","attr":{{"command":{{"createUser":"app","pwd":"{s}","roles":["readWrite"]}}}}}}'),
    P("h15-pg-log-create-role-unquoted-param", "postgresql", human_password, "{t} UTC [4711] LOG:  duration: 1.2 ms  execute <unnamed>: CREATE ROLE app LOGIN PASSWORD $1\n{t} UTC [4711] DETAIL:  parameters: $1 = '{s}'"),
    P("h15-java-props-colon", "java", human_password, "mail.smtp.user: alerts@acme.io\nmail.smtp.password: {s}"),
    P("h15-ini-spaces-section", "config", human_password, "[database]\nhost     = db.internal\nuser     = app\npassword = {s}"),
    P("h15-keepass-csv", "export", human_password, '"Group","Title","Username","Password","URL"\n"Infra","Jump host","root","{s}","ssh://jump01"'),
]

NEGATIVE15 = [
    P("h15-neg-ticket-no-secret", "prose", None, "Ticket #48214 (bob@acme.io): Hi, my VPN password expired this morning, can you reset it?"),
    P("h15-neg-email-reset-link", "prose", None, "Subject: Reset your password\n\nClick https://id.acme.io/reset to choose a new password. The link expires in 1 hour."),
    P("h15-neg-sql-dump-hash", "sql", None, "INSERT INTO `users` (`id`, `name`, `password_hash`) VALUES (7, 'bob', '$2y$10$Jx9J8Yq2K0tYQdJ4Xq0rUe8B8y3cT0m1vQ7aP9cU2nF4sH6kL1mW2');"),
    P("h15-neg-csv-header-only", "export", None, "name,host,username,password,notes"),
    P("h15-neg-pulumi-secure", "pulumi", None, "config:\n  app:dbPassword:\n    secure: AAABAHqTn3mK9fR2wX5vL8cY0pQ4sE7tJ1uA6zB3dF9gH2kM5nR8"),
    P("h15-neg-helm-existing-secret", "kubernetes", None, "postgresql:\n  auth:\n    existingSecret: db-credentials\n    secretKeys:\n      adminPasswordKey: postgres-password"),
    P("h15-neg-graphql-vars-ref", "app", None, '{{"query":"mutation Login($u: String!, $p: String!) {{ login(username: $u, password: $p) {{ token }} }}","variables":{{"u":"bob"}}}}'),
    P("h15-neg-pg-param-redacted", "postgresql", None, "{t} UTC [4711] DETAIL:  parameters: $1 = '********'"),
]


# Written after holdout15 had been scored, read and fixed (end of session 5), before this split
# was scored once (BENCHMARKS.md): security tools' own output, database and queue admin
# consoles, IaC state and plans, shells of other systems.
HOLDOUT16 = [
    P("h16-hydra-found-output", "security", human_password, "[22][ssh] host: 10.0.0.5   login: root   password: {s}"),
    P("h16-nmap-brute-output", "security", human_password, "| ssh-brute:\n|   Accounts:\n|     admin:{s} - Valid credentials"),
    P("h16-trufflehog-json", "security", generic_token, '{{"SourceName":"git","DetectorName":"Generic","Verified":false,"Raw":"{s}"}}'),
    P("h16-psql-create-user-meta", "postgresql", human_password, "postgres=# CREATE USER analytics WITH PASSWORD '{s}';\nCREATE ROLE"),
    P("h16-mysql-shell-history", "mysql", human_password, "mysql> SET PASSWORD FOR 'repl'@'%' = PASSWORD('{s}');\nQuery OK, 0 rows affected"),
    P("h16-mssql-alter-login", "mssql", human_password, "1> ALTER LOGIN sa WITH PASSWORD = '{s}'\n2> GO"),
    P("h16-clickhouse-create-user", "clickhouse", human_password, "CREATE USER etl IDENTIFIED WITH sha256_password BY '{s}' HOST ANY"),
    P("h16-cockroach-create-user", "cockroach", human_password, "root@:26257/defaultdb> CREATE USER app WITH PASSWORD '{s}';"),
    P("h16-influx-user-create", "influxdb", human_password, "$ influx user create -n admin -p {s} -o acme"),
    P("h16-nats-server-conf", "nats", human_password, "authorization {{\n  user: svc\n  password: \"{s}\"\n  timeout: 1\n}}"),
    P("h16-activemq-credentials-props", "activemq", human_password, "activemq.username=system\nactivemq.password={s}\nactivemq.broker=tcp://localhost:61616"),
    P("h16-zookeeper-digest-auth", "zookeeper", human_password, "[zk: localhost:2181(CONNECTED) 0] addauth digest admin:{s}"),
    P("h16-etcdctl-user", "etcd", human_password, "$ etcdctl --user root:{s} get /config/app"),
    P("h16-consul-kv-put-secret", "hashicorp", human_password, "$ consul kv put secret/app/db_password {s}"),
    P("h16-tfstate-outputs", "terraform", human_password, '"outputs": {{\n    "db_admin_password": {{\n      "value": "{s}",\n      "type": "string",\n      "sensitive": false\n    }}'),
    P("h16-cdk-context-json", "aws", human_password, '{{"context": {{"dbMasterPassword": "{s}", "env": "prod"}}}}'),
    P("h16-bicep-param", "azure", human_password, "param adminPassword string = '{s}'"),
    P("h16-arm-parameters-json", "azure", human_password, '{{"parameters": {{"adminUsername": {{"value": "azureuser"}}, "adminPassword": {{"value": "{s}"}}}}}}'),
    P("h16-powershell-psdsc", "powershell", human_password, "$cred = New-Object System.Management.Automation.PSCredential ('ACME\\svc', (ConvertTo-SecureString '{s}' -AsPlainText -Force))"),
    P("h16-cmd-runas-savecred-echo", "windows", human_password, "C:\\> echo {s}| runas /user:ACME\\admin cmd"),
    P("h16-fish-history", "shell", human_password, "- cmd: set -x PGPASSWORD {s}\n  when: 1733130000"),
    P("h16-zsh-history-extended", "shell", generic_token, ": 1733130000:0;export CLOUDFLARE_API_TOKEN={s}"),
    P("h16-bash-heredoc-pass", "shell", human_password, "$ cat <<EOF > ~/.my.cnf\n[client]\nuser=root\npassword={s}\nEOF"),
    P("h16-kafka-acl-sasl-cli", "kafka", human_password, "$ kafka-configs.sh --bootstrap-server kafka:9092 --alter --add-config 'SCRAM-SHA-512=[password={s}]' --entity-type users --entity-name app"),
    P("h16-rabbitmq-definitions", "rabbitmq", human_password, '{{"users":[{{"name":"app","password":"{s}","tags":"management"}}]}}'),
    P("h16-proxysql-admin", "mysql", human_password, "ProxySQL Admin> INSERT INTO mysql_users(username,password,default_hostgroup) VALUES ('app','{s}',1);"),
    P("h16-odbc-ini", "config", human_password, "[DWH]\nDriver=PostgreSQL Unicode\nServername=dwh.internal\nUsername=report\nPassword={s}"),
    P("h16-wpa-supplicant-psk", "network", human_password, 'network={{\n    ssid="AcmeCorp"\n    psk="{s}"\n}}'),
]

NEGATIVE16 = [
    P("h16-neg-hydra-no-result", "security", None, "1 of 1 target completed, 0 valid password found"),
    P("h16-neg-tfstate-sensitive", "terraform", None, '"outputs": {{\n    "db_admin_password": {{\n      "sensitive": true,\n      "type": "string"\n    }}'),
    P("h16-neg-arm-keyvault-ref", "azure", None, '{{"adminPassword": {{"reference": {{"keyVault": {{"id": "/subscriptions/xxx/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"}}, "secretName": "vmAdminPassword"}}}}}}'),
    P("h16-neg-bicep-secure-param", "azure", None, "@secure()\nparam adminPassword string"),
    P("h16-neg-wpa-psk-hex-hash", "network", None, 'network={{\n    ssid="AcmeCorp"\n    #psk="(hidden)"\n}}'),
    P("h16-neg-consul-kv-get-path", "hashicorp", None, "$ consul kv get -recurse secret/app/"),
    P("h16-neg-etcdctl-no-auth", "etcd", None, "$ etcdctl --endpoints=https://etcd:2379 get /config/app"),
    P("h16-neg-psql-role-listing", "postgresql", None, "postgres=# \\du\n Role name | Attributes\n analytics | Password valid until 2027-01-01"),
]


# Written after holdout16 had been scored, read and fixed (end of session 5), before this split
# was scored once (BENCHMARKS.md): telephony, backup, mail, VPN and media servers, agents.
def wg_like(rng):
    return base64.b64encode(bytes(rng.randrange(256) for _ in range(32))).decode()


HOLDOUT17 = [
    P("h17-asterisk-pjsip-auth", "voip", human_password, "[6001-auth]\ntype=auth\nauth_type=userpass\nusername=6001\npassword={s}"),
    P("h17-freeswitch-gateway", "voip", human_password, '<gateway name="carrier">\n  <param name="username" value="acme"/>\n  <param name="password" value="{s}"/>\n</gateway>'),
    P("h17-bacula-director", "backup", human_password, 'Director {{\n  Name = bacula-dir\n  Password = "{s}"\n}}'),
    P("h17-borgmatic-yaml", "backup", human_password, "storage:\n    encryption_passphrase: \"{s}\"\n    compression: lz4"),
    P("h17-duplicity-env", "backup", human_password, "+ PASSPHRASE='{s}' duplicity /srv s3://backups/srv"),
    P("h17-dovecot-static-passdb", "mail", human_password, "passdb {{\n  driver = static\n  args = password={s}\n}}"),
    P("h17-exim-smarthost-auth", "mail", human_password, "*.sendgrid.net:apikey:{s}"),
    P("h17-strongswan-secrets", "vpn", human_password, '10.0.0.1 %any : PSK "{s}"'),
    P("h17-openvpn-static-key", "vpn", lambda r: "\n".join(rs(r, 32, HEX) for _ in range(4)), "<tls-auth>\n-----BEGIN OpenVPN Static key V1-----\n{s}\n-----END OpenVPN Static key V1-----\n</tls-auth>"),
    P("h17-plex-token-url", "media", lambda r: rs(r, 20, AN + "-_"), '{ip} - - [{t}] "GET /library/sections?X-Plex-Token={s} HTTP/1.1" 200 812'),
    P("h17-jellyfin-api-key-header", "media", hex_key, "GET /Items HTTP/1.1\nX-Emby-Token: {s}"),
    P("h17-zabbix-agent-psk", "monitoring", lambda r: rs(r, 64, HEX), "$ cat /etc/zabbix/zabbix_agentd.psk\n{s}"),
    P("h17-newrelic-infra-yaml", "monitoring", lambda r: rs(r, 36, HEX) + "NRAL", "license_key: {s}\ndisplay_name: web01"),
    P("h17-telegraf-output", "monitoring", human_password, '[[outputs.influxdb]]\n  urls = ["https://influx.acme.io:8086"]\n  username = "telegraf"\n  password = "{s}"'),
    P("h17-home-assistant-secrets", "iot", human_password, "mqtt_password: {s}\nlatitude: 52.37"),
    P("h17-esphome-wifi", "iot", human_password, "wifi:\n  ssid: \"Acme-IoT\"\n  password: \"{s}\""),
    P("h17-octoprint-api-key", "iot", lambda r: rs(r, 32, UP), "OctoPrint: X-Api-Key: {s}"),
    P("h17-minecraft-rcon", "games", human_password, "rcon.port=25575\nrcon.password={s}\nenable-rcon=true"),
    P("h17-steamcmd-login", "games", human_password, "$ steamcmd +login acme_build {s} +app_update 740 +quit"),
    P("h17-proftpd-sql", "ftp", human_password, "SQLConnectInfo proftpd@localhost proftpd {s}"),
    P("h17-pureftpd-mysql", "ftp", human_password, "MYSQLUser       pureftpd\nMYSQLPassword   {s}"),
    P("h17-squid-basic-helper", "proxy", human_password, "$ echo 'bob {s}' | /usr/lib/squid/basic_ncsa_auth /etc/squid/passwd"),
    P("h17-okta-scim-bearer", "sso", lambda r: "00" + rs(r, 40, AN + "-_"), "SCIM provisioning: Authorization: Bearer {s}"),
    P("h17-keycloak-client-secret-json", "sso", lambda r: rs(r, 32, AN), '{{"clientId":"portal","secret":"{s}","redirectUris":["https://portal.acme.io/*"]}}'),
    P("h17-cups-printer-uri", "printing", human_password, "DeviceURI smb://ACME/printuser:{s}@printsrv/HP-3F"),
    P("h17-nut-upsd-users", "hardware", human_password, "[upsmon]\n  password = {s}\n  upsmon master"),
    P("h17-mosquitto-passwd-cmd", "iot", human_password, "$ mosquitto_passwd -b /etc/mosquitto/passwd sensor42 {s}"),
    P("h17-postfix-relay-password-map", "mail", human_password, "[smtp.office365.com]:587 relay@acme.io:{s}"),
]

NEGATIVE17 = [
    P("h17-neg-asterisk-md5", "voip", None, "[6002-auth]\ntype=auth\nauth_type=md5\nmd5_cred=5f4dcc3b5aa765d61d8327deb882cf99"),
    P("h17-neg-borg-passcommand", "backup", None, "storage:\n    encryption_passcommand: \"secret-tool lookup borg repo\""),
    P("h17-neg-strongswan-cert", "vpn", None, ": RSA server-key.pem"),
    P("h17-neg-plex-no-token", "media", None, '{ip} - - [{t}] "GET /library/sections HTTP/1.1" 401 0'),
    P("h17-neg-ha-secret-ref", "iot", None, "mqtt:\n  password: !secret mqtt_password"),
    P("h17-neg-minecraft-rcon-off", "games", None, "rcon.port=25575\nrcon.password=\nenable-rcon=false"),
    P("h17-neg-mosquitto-passwd-file", "iot", None, "sensor42:$7$101$Dtq8vV7p1V+gH2Qa$kLZ0c3J1pQmV2xN8sR4tY6uW9zA3bC5dE7fG9hJ1kL3mN5pQ7rS9tU1vW3xY5zA7bC9dE1fG3hJ5kL7mN9p=="),
    P("h17-neg-telegraf-env", "monitoring", None, '  password = "${{INFLUX_PASSWORD}}"'),
]


# Written after holdout17 had been scored, read and fixed (end of session 5), before this split
# was scored once (BENCHMARKS.md): cloud CLIs' JSON output, CI systems, package and registry
# URLs, signed URLs.
HOLDOUT18 = [
    P("h18-aws-create-access-key-json", "aws", aws_secret, '{{\n    "AccessKey": {{\n        "UserName": "ci",\n        "AccessKeyId": "{kid}",\n        "Status": "Active",\n        "SecretAccessKey": "{s}"\n    }}\n}}'),
    P("h18-az-sp-create-output", "azure", lambda r: rs(r, 3, AN) + "8Q~" + rs(r, 34, AN + "_~."), '{{\n  "appId": "{uuid}",\n  "displayName": "ci-deployer",\n  "password": "{s}",\n  "tenant": "{uuid2}"\n}}'),
    P("h18-doctl-auth-init", "digitalocean", lambda r: "dop_v1_" + rs(r, 64, HEX), "$ doctl auth init --access-token {s}"),
    P("h18-linode-cli-config", "linode", lambda r: rs(r, 64, HEX), "[DEFAULT]\ndefault-user = acme\n\n[acme]\ntoken = {s}\nregion = eu-central"),
    P("h18-oci-config", "oracle", human_password, "[DEFAULT]\nuser=ocid1.user.oc1..aaaa\nfingerprint=20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34\nkey_file=~/.oci/oci_api_key.pem\npass_phrase={s}"),
    P("h18-jenkins-withcredentials-leak", "ci", human_password, "[Pipeline] withCredentials\nMasking supported pattern matches of $DB_PASS\n[Pipeline] sh\n+ echo connecting as app with {s}"),
    P("h18-teamcity-param", "ci", human_password, "##teamcity[setParameter name='env.DEPLOY_PASSWORD' value='{s}']"),
    P("h18-bamboo-variable-log", "ci", human_password, "build\t02-Dec-2026 10:00:00\tBuild variable: bamboo_deploy_password={s}"),
    P("h18-helm-get-values", "kubernetes", human_password, "$ helm get values keycloak\nUSER-SUPPLIED VALUES:\nauth:\n  adminPassword: {s}\n  adminUser: admin"),
    P("h18-kubectl-secret-json", "kubernetes", lambda r: base64.b64encode(human_password(r).encode()).decode(), '{{\n    "apiVersion": "v1",\n    "data": {{\n        "password": "{s}"\n    }},\n    "kind": "Secret"\n}}'),
    P("h18-pip-extra-index-token", "python", lambda r: "pypi-" + rs(r, 60, URLSAFE), "pip install --extra-index-url https://__token__:{s}@pypi.acme.io/simple acme-sdk"),
    P("h18-goproxy-creds", "go", lambda r: "glpat-" + rs(r, 20, URLSAFE), "GOPROXY=https://gitlab-ci-token:{s}@gitlab.acme.io/api/v4/packages/go,direct"),
    P("h18-maven-repo-url-creds", "java", human_password, "[INFO] Downloading from internal: https://deployer:{s}@nexus.acme.io/repository/maven-public/org/acme/core/1.2/core-1.2.pom"),
    P("h18-docker-config-identitytoken", "docker", lambda r: rs(r, 40, AN), '{{"auths":{{"acme.azurecr.io":{{"identitytoken":"{s}"}}}}}}'),
    P("h18-git-clone-x-access-token", "git", lambda r: "ghs_" + rs(r, 36), "Cloning into 'api'...\n+ git clone https://x-access-token:{s}@github.com/acme/api.git"),
    P("h18-gcs-signed-url", "gcp", lambda r: rs(r, 512, HEX), 'GET https://storage.googleapis.com/acme-exports/r.csv?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=exporter%40acme.iam.gserviceaccount.com%2F20261202%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Signature={s}'),
    P("h18-cloudinary-url", "saas", lambda r: rs(r, 27, AN + "-_"), "CLOUDINARY_URL=cloudinary://848493949394949:{s}@acme"),
    P("h18-twilio-curl-basic", "twilio", lambda r: rs(r, 32, HEX), "$ curl -X POST https://api.twilio.com/2010-04-01/Accounts/AC{acct}/Messages.json -u AC{acct}:{s}"),
    P("h18-mailchimp-key-log", "saas", lambda r: rs(r, 32, HEX) + "-us21", "mailchimp client configured with key {s}"),
    P("h18-shopify-app-env", "saas", lambda r: "shpss_" + rs(r, 32, HEX), "SHOPIFY_APP_URL=https://app.acme.io\nSHOPIFY_API_SECRET={s}"),
    P("h18-firebase-service-account-env", "gcp", lambda r: "-----BEGIN PRIVATE KEY-----\\n" + rs(r, 64, B64) + "\\n-----END PRIVATE KEY-----", 'FIREBASE_PRIVATE_KEY="{s}\\n"'),
    P("h18-supabase-service-role", "saas", jwt, "SUPABASE_URL=https://abcd.supabase.co\nSUPABASE_SERVICE_ROLE_KEY={s}"),
    P("h18-algolia-admin-env", "saas", hex_key, "ALGOLIA_APP_ID=4ZQ8KJ2M1P\nALGOLIA_ADMIN_KEY={s}"),
    P("h18-sentry-auth-token-cli", "saas", lambda r: "sntryu_" + rs(r, 64, HEX), "$ sentry-cli --auth-token {s} releases new 1.4.2"),
    P("h18-netlify-deploy-auth", "saas", lambda r: "nfp_" + rs(r, 40, AN), "$ netlify deploy --prod --auth {s} --dir dist"),
    P("h18-fly-deploy-token", "saas", lambda r: "FlyV1 fm2_" + rs(r, 120, B64), "$ flyctl deploy --access-token '{s}'"),
    P("h18-render-api-header", "saas", lambda r: "rnd_" + rs(r, 32), "Authorization: Bearer {s}"),
    P("h18-circleci-api-token-curl", "ci", lambda r: "CCIPAT_" + rs(r, 22) + "_" + rs(r, 40, HEX), '$ curl -H "Circle-Token: {s}" https://circleci.com/api/v2/me'),
]

NEGATIVE18 = [
    P("h18-neg-aws-list-access-keys", "aws", None, '{{"AccessKeyMetadata": [{{"UserName": "ci", "AccessKeyId": "AKIA****************", "Status": "Active"}}]}}'),
    P("h18-neg-jenkins-masked", "ci", None, "+ echo connecting as app with ****"),
    P("h18-neg-teamcity-param-ref", "ci", None, "##teamcity[setParameter name='env.DEPLOY_PASSWORD' value='%secure:teamcity.password.deploy%']"),
    P("h18-neg-kubectl-describe-secret", "kubernetes", None, "Name:         db\nType:  Opaque\n\nData\n====\npassword:  16 bytes"),
    P("h18-neg-pip-index-no-creds", "python", None, "pip install --extra-index-url https://pypi.acme.io/simple acme-sdk"),
    P("h18-neg-git-clone-plain", "git", None, "+ git clone https://github.com/acme/api.git"),
    P("h18-neg-oci-fingerprint-only", "oracle", None, "[DEFAULT]\nuser=ocid1.user.oc1..aaaa\nkey_file=~/.oci/oci_api_key.pem"),
    P("h18-neg-shopify-api-key-only", "saas", None, "SHOPIFY_API_KEY_NAME=storefront"),
]


# Written after holdout18 had been scored, read and fixed (end of session 5), before this split
# was scored once (BENCHMARKS.md): account and key-management commands on every OS.
HOLDOUT19 = [
    P("h19-macos-security-add", "macos", human_password, "$ security add-generic-password -a ci -s deploy-key -w {s}"),
    P("h19-dscl-passwd", "macos", human_password, "$ sudo dscl . -passwd /Users/kiosk {s}"),
    P("h19-passwd-stdin", "linux", human_password, "$ echo {s} | passwd --stdin deploy"),
    P("h19-smbpasswd-s", "linux", human_password, "$ echo -ne '{s}\\n' | smbpasswd -a -s bob"),
    P("h19-kadmin-addprinc", "kerberos", human_password, '$ kadmin.local -q "addprinc -pw {s} svc_http/web01.acme.io"'),
    P("h19-openssl-passin", "openssl", human_password, "$ openssl rsa -in server.key -passin pass:{s} -out server.nopass.key"),
    P("h19-openssl-pkcs12-passout", "openssl", human_password, "$ openssl pkcs12 -export -in cert.pem -inkey key.pem -out bundle.p12 -passout pass:{s}"),
    P("h19-ssh-keygen-N", "ssh", human_password, "$ ssh-keygen -t ed25519 -f ~/.ssh/deploy -N '{s}' -C deploy"),
    P("h19-unrar-p", "shell", human_password, "$ unrar x -p{s} backups.rar /restore/"),
    P("h19-certutil-importpfx", "windows", human_password, "C:\\> certutil -f -p {s} -importpfx web.pfx"),
    P("h19-import-pfx-ps", "powershell", human_password, "PS> Import-PfxCertificate -FilePath web.pfx -CertStoreLocation Cert:\\LocalMachine\\My -Password (ConvertTo-SecureString -String '{s}' -AsPlainText -Force)"),
    P("h19-mimikatz-output", "security", human_password, "         * Username : svc_sql\n         * Domain   : ACME\n         * Password : {s}"),
    P("h19-net-user-domain-add", "windows", human_password, "C:\\> net user svc_backup {s} /add /domain"),
    P("h19-dsadd-user", "windows", human_password, 'C:\\> dsadd user "CN=svc_app,OU=Service,DC=acme,DC=io" -pwd {s} -mustchpwd no'),
    P("h19-new-aduser", "powershell", human_password, "PS> New-ADUser -Name svc_web -AccountPassword (ConvertTo-SecureString '{s}' -AsPlainText -Force) -Enabled $true"),
    P("h19-ipa-user-add", "freeipa", human_password, "$ echo '{s}' | ipa user-add alice --first=Alice --last=Smith --password"),
    P("h19-samba-tool-user-create", "samba", human_password, "$ samba-tool user create bob {s} --given-name=Bob"),
    P("h19-pdbedit-echo", "samba", human_password, "$ echo '{s}' | pdbedit -a -t -u bob"),
    P("h19-rabbitmqctl-change-password", "rabbitmq", human_password, "$ rabbitmqctl change_password admin {s}"),
    P("h19-grafana-cli-reset", "grafana", human_password, "$ grafana-cli admin reset-admin-password {s}"),
    P("h19-gitlab-rails-runner", "gitlab", human_password, "$ gitlab-rails runner \"user = User.find_by_username('root'); user.password = '{s}'; user.save!\""),
    P("h19-django-changepassword-shell", "python", human_password, ">>> u = User.objects.get(username='admin'); u.set_password('{s}'); u.save()"),
    P("h19-wp-user-update", "php", human_password, "$ wp user update admin --user_pass='{s}' --skip-email"),
    P("h19-jenkins-cli-groovy", "ci", human_password, 'jenkins.model.Jenkins.instance.securityRealm.createAccount("ops", "{s}")'),
    P("h19-postgres-alter-user-psql-c", "postgresql", human_password, '$ psql -U postgres -c "ALTER USER app WITH PASSWORD \'{s}\';"'),
    P("h19-mongo-eval-createuser", "mongodb", human_password, "$ mongosh admin --eval 'db.createUser({{user: \"ops\", pwd: \"{s}\", roles: [\"root\"]}})'"),
    P("h19-redis-cli-config-set", "redis", human_password, "$ redis-cli CONFIG SET requirepass {s}"),
    P("h19-keycloak-admin-env", "keycloak", human_password, "$ docker run -e KC_BOOTSTRAP_ADMIN_USERNAME=admin -e KC_BOOTSTRAP_ADMIN_PASSWORD={s} quay.io/keycloak/keycloak start-dev"),
]

NEGATIVE19 = [
    P("h19-neg-useradd-hash", "linux", None, "$ useradd -m -p '$6$rounds=5000$saltsalt$ZmFrZWhhc2hmYWtlaGFzaGZha2VoYXNoZmFrZWhhc2g' deploy"),
    P("h19-neg-secretsdump-hashes", "security", None, "Administrator:500:aad3b435b51404eeaad3b435b51404ee:31d6cfe0d16ae931b73c59d7e0c089c0:::"),
    P("h19-neg-ssh-keygen-empty", "ssh", None, "$ ssh-keygen -t ed25519 -f ~/.ssh/id -N '' -C ci"),
    P("h19-neg-openssl-passin-env", "openssl", None, "$ openssl rsa -in server.key -passin env:KEY_PASS -out server.nopass.key"),
    P("h19-neg-mimikatz-null", "security", None, "         * Username : WEB01$\n         * Domain   : ACME\n         * Password : (null)"),
    P("h19-neg-net-user-random", "windows", None, "C:\\> net user svc_backup * /add /domain"),
    P("h19-neg-passwd-prompt", "linux", None, "$ passwd deploy\nNew password:\nRetype new password:\npasswd: password updated successfully"),
    P("h19-neg-grafana-cli-env", "grafana", None, '$ grafana-cli admin reset-admin-password "$GRAFANA_ADMIN_PASSWORD"'),
]


# Written at the very end of session 5, after every fix of that session, and scored once: never
# tuned on, the split that stays held out (BENCHMARKS.md).
HOLDOUT20 = [
    P("h20-nginx-auth-basic-log-param", "nginx", human_password, '{ip} - - [{t}] "GET /api/export?user=ops&passwd={s} HTTP/1.1" 200 2048'),
    P("h20-syslog-cron-mysqldump", "cron", human_password, "{t} cron01 CRON[4121]: (root) CMD (mysqldump --user=backup --password={s} shop | gzip > /backup/shop.sql.gz)"),
    P("h20-k8s-audit-exec-env", "kubernetes", human_password, '{{"verb":"create","objectRef":{{"resource":"pods","subresource":"exec"}},"requestURI":"/api/v1/namespaces/prod/pods/db-0/exec?command=env&command=PGPASSWORD%3D{s}&command=psql"}}'),
    P("h20-cloudtrail-ssm-put", "cloudtrail", human_password, '{{"eventName":"PutParameter","requestParameters":{{"name":"/prod/db/password","type":"String","value":"{s}","overwrite":true}}}}'),
    P("h20-github-actions-debug-env", "ci", generic_token, "##[debug]Evaluating: env.REGISTRY_TOKEN\n##[debug]Result: '{s}'"),
    P("h20-python-logging-dict", "python", human_password, "DEBUG:app.db:connect kwargs={{'host': 'db', 'port': 5432, 'user': 'app', 'passwd': '{s}'}}"),
    P("h20-java-toString-credentials", "java", human_password, "INFO  c.a.s.SmtpClient - config=SmtpConfig(host=smtp.acme.io, port=587, user=alerts, secret={s})"),
    P("h20-go-struct-printf", "go", generic_token, "level=debug msg=\"client config\" cfg=\"{{Endpoint:https://api.acme.io Token:{s} Timeout:30s}}\""),
    P("h20-ruby-hash-inspect", "ruby", human_password, 'D, [2026-12-02T10:00:00] DEBUG -- : {{:adapter=>"postgresql", :username=>"app", :password=>"{s}"}}'),
    P("h20-dotnet-options-dump", "dotnet", human_password, 'dbug: Startup[0] Options: {{ "Smtp": {{ "Host": "smtp.acme.io", "User": "alerts", "Pass": "{s}" }} }}'),
    P("h20-php-var-dump", "php", human_password, "array(3) {{\n  [\"user\"]=>\n  string(3) \"app\"\n  [\"pass\"]=>\n  string(12) \"{s}\"\n}}"),
    P("h20-bash-xtrace-mysql", "shell", human_password, "+ mysql -h db -u root '-p{s}' -e 'FLUSH PRIVILEGES'"),
    P("h20-ansible-verbose-module-args", "ansible", human_password, 'TASK [db : create user] ***\nok: [db1] => {{"changed": false, "invocation": {{"module_args": {{"name": "app", "password": "{s}"}}}}}}'),
    P("h20-terraform-apply-log", "terraform", human_password, '2026-12-02T10:00:00.000Z [DEBUG] provider.terraform-provider-postgresql: request: {{"role":"app","password":"{s}"}}'),
    P("h20-ldap-modify-log", "ldap", human_password, "conn=1001 op=2 MOD dn=\"uid=bob,ou=people,dc=acme,dc=io\" attr=userPassword value={s}"),
    P("h20-haproxy-log-auth", "haproxy", lambda r: base64.b64encode(("ops:" + human_password(r)).encode()).decode(), "haproxy[811]: {ip}:51234 [02/Dec/2026:10:00:00.000] fe_admin be_admin/s1 0/0/1/2/3 200 512 - - ---- 1/1/0/0/0 0/0 {{Basic {s}}} \"GET /stats HTTP/1.1\""),
    P("h20-windows-scheduled-task-xml", "windows", human_password, "<Principal id=\"Author\">\n  <UserId>ACME\\svc_jobs</UserId>\n  <Password>{s}</Password>\n</Principal>"),
    P("h20-rsyslog-omelasticsearch", "logging", human_password, 'action(type="omelasticsearch" server="es.acme.io" uid="rsyslog" pwd="{s}")'),
    P("h20-sentry-event-extra", "app", generic_token, '{{"event_id":"{sha32}","extra":{{"request_headers":{{"X-Service-Token":"{s}"}}}}}}'),
    P("h20-elastic-audit-log", "elastic", human_password, '{{"event.action":"authentication_failed","user.name":"bob","request.body":"{{\\"password\\":\\"{s}\\"}}"}}'),
]

NEGATIVE20 = [
    P("h20-neg-nginx-login-ok", "nginx", None, '{ip} - - [{t}] "GET /api/export?user=ops HTTP/1.1" 200 2048'),
    P("h20-neg-cron-mysqldump-cnf", "cron", None, "{t} cron01 CRON[4121]: (root) CMD (mysqldump --defaults-extra-file=/root/.backup.cnf shop | gzip > /backup/shop.sql.gz)"),
    P("h20-neg-cloudtrail-securestring", "cloudtrail", None, '{{"eventName":"PutParameter","requestParameters":{{"name":"/prod/db/password","type":"SecureString","value":"HIDDEN_DUE_TO_SECURITY_REASONS"}}}}'),
    P("h20-neg-gha-masked", "ci", None, "##[debug]Evaluating: secrets.REGISTRY_TOKEN\n##[debug]Result: '***'"),
    P("h20-neg-python-kwargs-no-pw", "python", None, "DEBUG:app.db:connect kwargs={{'host': 'db', 'port': 5432, 'user': 'app'}}"),
    P("h20-neg-java-toString-masked", "java", None, "INFO  c.a.s.SmtpClient - config=SmtpConfig(host=smtp.acme.io, port=587, user=alerts, secret=[PROTECTED])"),
    P("h20-neg-ldap-modify-hash", "ldap", None, "conn=1001 op=2 MOD dn=\"uid=bob,ou=people,dc=acme,dc=io\" attr=userPassword value={{SSHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
    P("h20-neg-haproxy-no-auth", "haproxy", None, "haproxy[811]: {ip}:51234 [02/Dec/2026:10:00:00.000] fe_admin be_admin/s1 0/0/1/2/3 401 512 - - ---- 1/1/0/0/0 0/0 \"GET /stats HTTP/1.1\""),
]


# Written at the start of session 6, before holdout20's misses were read and before any of that
# session's detector changes, and scored once after them (BENCHMARKS.md).
def discord_webhook_token(rng):
    return rs(rng, 68, URLSAFE)


HOLDOUT21 = [
    P("h21-netrc-cat", "shell", human_password, "$ cat ~/.netrc\nmachine api.acme.io login ops password {s}"),
    P("h21-jdbc-sqlserver", "java", human_password, "HikariPool-1 - Starting... url=jdbc:sqlserver://db.acme.io:1433;databaseName=shop;user=app;password={s};encrypt=true"),
    P("h21-mqtt-url", "iot", human_password, "{t} INFO bridge: connecting to mqtt://ops:{s}@broker.acme.io:1883 (client_id=edge-7)"),
    P("h21-compose-mysql-root", "docker", human_password, "services:\n  db:\n    image: mysql:8\n    environment:\n      MYSQL_ROOT_PASSWORD: {s}"),
    P("h21-rdesktop", "windows", human_password, "$ rdesktop -u ops -p {s} -g 1280x800 10.0.4.12"),
    P("h21-openconnect-stdin", "vpn", human_password, "$ echo '{s}' | sudo openconnect --user=ops --passwd-on-stdin vpn.acme.io"),
    P("h21-isql-positional", "odbc", human_password, "$ isql -v SHOP_DSN app {s}"),
    P("h21-bcp-sa", "mssql", human_password, "$ bcp shop.dbo.orders out orders.dat -S db.acme.io -U sa -P {s} -c"),
    P("h21-mongodump-flags", "mongodb", human_password, "$ mongodump -h db.acme.io -u backup -p {s} --authenticationDatabase admin --gzip --archive=/backup/shop.gz"),
    P("h21-curl-user-nexus", "shell", human_password, "$ curl -fsS -u deploy:{s} -T app.jar https://nexus.acme.io/repository/releases/app.jar"),
    P("h21-login-attempt-echo", "app", human_password, "{t} WARN auth: Login attempt failed: user=bob pass={s} ip={ip} attempts=3"),
    P("h21-pwsh-arm-secret", "powershell", generic_token, 'PS C:\\deploy> $env:ARM_CLIENT_SECRET = "{s}"'),
    P("h21-discord-webhook", "chatops", discord_webhook_token, "{t} INFO notify: POST https://discord.com/api/webhooks/1187462304871241728/{s} -> 204"),
    P("h21-sudo-mysql-inline", "sudo", human_password, "{t} db01 sudo:  ops : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/mysql -uroot -p{s} -e status"),
    P("h21-python-traceback-locals", "python", human_password, "Traceback (most recent call last):\n  File \"/app/db.py\", line 42, in connect\n    conn = psycopg2.connect(host=host, user=user, password=password)\n    locals: host='db.acme.io' user='app' password='{s}'"),
    P("h21-cisco-snmpv3-user", "network", human_password, "snmp-server group NMS v3 priv\nsnmp-server user nms NMS v3 auth sha {s}"),
    P("h21-chap-secrets", "ppp", human_password, "# Secrets for authentication using CHAP\n# client\tserver\tsecret\t\t\tIP addresses\nops\t*\t\"{s}\"\t*"),
    P("h21-hub-config-oauth", "git", generic_token, "github.com:\n- user: ops\n  oauth_token: {s}\n  protocol: https"),
    P("h21-redis-monitor-auth", "redis", human_password, '1764669600.123456 [0 10.0.3.7:51234] "AUTH" "default" "{s}"'),
    P("h21-pip-index-url", "python", human_password, "Looking in indexes: https://deploy:{s}@pypi.acme.io/simple\nCollecting acme-core==2.4.1"),
    P("h21-tfstate-admin-password", "terraform", human_password, '      "attributes": {{\n        "administrator_login": "sqladmin",\n        "administrator_login_password": "{s}",\n        "version": "12.0"'),
]

NEGATIVE21 = [
    P("h21-neg-netrc-no-password", "shell", None, "$ cat ~/.netrc\nmachine api.acme.io login ops"),
    P("h21-neg-jdbc-integrated", "java", None, "HikariPool-1 - Starting... url=jdbc:sqlserver://db.acme.io:1433;databaseName=shop;integratedSecurity=true;encrypt=true"),
    P("h21-neg-pip-masked", "python", None, "Looking in indexes: https://deploy:****@pypi.acme.io/simple\nCollecting acme-core==2.4.1"),
    P("h21-neg-login-attempt-reason", "app", None, "{t} WARN auth: Login attempt failed: user=bob ip={ip} reason=bad_password attempts=3"),
    P("h21-neg-tfplan-sensitive", "terraform", None, '      + administrator_login          = "sqladmin"\n      + administrator_login_password = (sensitive value)'),
    P("h21-neg-redis-monitor-get", "redis", None, '1764669600.123456 [0 10.0.3.7:51234] "GET" "session:{sha16}"'),
    P("h21-neg-bcp-trusted", "mssql", None, "$ bcp shop.dbo.orders out orders.dat -S db.acme.io -T -c"),
    P("h21-neg-mongodump-uri-env", "mongodb", None, '$ mongodump --uri="$MONGO_URI" --gzip --archive=/backup/shop.gz'),
]


# Written at the start of session 7, before holdout21's misses were read and before any of that
# session's detector changes, and scored once after them (BENCHMARKS.md).
def hf_token(rng):
    return "hf_" + rs(rng, 34, string.ascii_letters)


def basic_pair(rng):
    return base64.b64encode(f"ci:{human_password(rng)}".encode()).decode()


def vault_legacy(rng):
    return "s." + rs(rng, 24)


def sentry_secret(rng):
    return rs(rng, 32, HEX)


HOLDOUT22 = [
    P("h22-go-struct-plusv", "go", human_password, "{t} ERROR db: connect failed cfg=&{{Host:db.acme.io Port:5432 User:app Password:{s} SSLMode:require}}"),
    P("h22-rust-debug", "rust", human_password, 'Error: connect to db: Config {{ host: "db.acme.io", port: 5432, user: "app", password: "{s}", dbname: "shop" }}'),
    P("h22-ruby-inspect", "ruby", human_password, '#<Acme::SmtpSettings address="smtp.acme.io", port=587, user_name="alerts", password="{s}", authentication=:login>'),
    P("h22-elixir-map", "elixir", human_password, '[error] GenServer MyApp.Repo terminating\n** (DBConnection.ConnectionError) %{{hostname: "db", username: "app", password: "{s}", database: "shop"}}'),
    P("h22-cef-label", "siem", generic_token, "CEF:0|Acme|Portal|2.1|100|Integration saved|3|suser={u} src={ip} cs1Label=integration cs1=pagerduty cs2Label=apiKey cs2={s}"),
    P("h22-wss-token", "app", generic_token, "{t} INFO ws: connecting wss://stream.acme.io/v2/events?client=edge&token={s}"),
    P("h22-oauth-fragment", "browser", generic_token, "Navigated to https://app.acme.io/callback#access_token={s}&token_type=Bearer&expires_in=3599"),
    P("h22-npmrc-auth", "npm", basic_pair, "$ cat .npmrc\nregistry=https://npm.acme.io/\n//npm.acme.io/:_auth={s}\nalways-auth=true"),
    P("h22-helm-set", "kubernetes", human_password, "$ helm upgrade --install api acme/api --set image.tag=2.4.1 --set postgresql.auth.password={s} -n prod"),
    P("h22-apache-setenv", "apache", human_password, '<VirtualHost *:443>\n  SetEnv DB_PASS "{s}"\n  SetEnv DB_USER app'),
    P("h22-hf-login", "ml", hf_token, "$ huggingface-cli login --token {s} --add-to-git-credential"),
    P("h22-grpc-metadata", "go", generic_token, "{t} DEBUG grpc: outgoing metadata: map[authorization:[Bearer {s}] user-agent:[grpc-go/1.62.1]]"),
    P("h22-vault-legacy-header", "http", vault_legacy, "> GET /v1/secret/data/prod/db HTTP/1.1\n> Host: vault.acme.io:8200\n> X-Vault-Token: {s}"),
    P("h22-dotnet-anon", "dotnet", human_password, "info: Acme.Mail.Sender[0]\n      Sending with {{ Host = smtp.acme.io, Port = 587, UserName = alerts, Password = {s} }}"),
    P("h22-yaml-flow", "config", human_password, "cache: {{host: cache.acme.io, port: 6379, password: {s}}}"),
    P("h22-sentry-legacy-dsn", "config", sentry_secret, "SENTRY_DSN=https://4f1c2a9b7e3d4c8a9b0e1f2a3b4c5d6e:{s}@o41234.ingest.sentry.io/5678"),
    P("h22-alter-role-encrypted", "postgresql", human_password, "{t} UTC [811] LOG:  statement: ALTER ROLE app WITH LOGIN ENCRYPTED PASSWORD '{s}' VALID UNTIL 'infinity';"),
    P("h22-keycloak-admin-env", "docker", human_password, "$ docker run -d -e KC_BOOTSTRAP_ADMIN_USERNAME=admin -e KC_BOOTSTRAP_ADMIN_PASSWORD={s} quay.io/keycloak/keycloak:26.0 start-dev"),
    P("h22-ipsec-secrets", "vpn", human_password, '# /etc/ipsec.secrets\n10.0.0.1 10.0.9.1 : PSK "{s}"'),
    P("h22-rclone-conf", "rclone", generic_token, "[s3-backup]\ntype = s3\nprovider = Other\naccess_key_id = backup\nsecret_access_key = {s}\nendpoint = https://s3.acme.io"),
]

NEGATIVE22 = [
    P("h22-neg-go-struct-empty", "go", None, "{t} ERROR db: connect failed cfg=&{{Host:db.acme.io Port:5432 User:app Password: SSLMode:require}}"),
    P("h22-neg-rust-debug-redacted", "rust", None, 'Error: connect to db: Config {{ host: "db.acme.io", user: "app", password: Some(<redacted>) }}'),
    P("h22-neg-helm-existing-secret", "kubernetes", None, "$ helm upgrade --install api acme/api --set postgresql.auth.existingSecret=pg-creds -n prod"),
    P("h22-neg-grpc-metadata", "go", None, "{t} DEBUG grpc: outgoing metadata: map[content-type:[application/grpc] user-agent:[grpc-go/1.62.1] x-request-id:[{uuid}]]"),
    P("h22-neg-cef-plain", "siem", None, "CEF:0|Acme|Portal|2.1|100|Integration saved|3|suser={u} src={ip} cs1Label=integration cs1=pagerduty"),
    P("h22-neg-wss-since", "app", None, "{t} INFO ws: connecting wss://stream.acme.io/v2/events?client=edge&since={epoch}"),
    P("h22-neg-npmrc-env", "npm", None, "$ cat .npmrc\nregistry=https://npm.acme.io/\n//npm.acme.io/:_authToken=${{NPM_TOKEN}}"),
    P("h22-neg-sentry-public-dsn", "config", None, "SENTRY_DSN=https://{sha32}@o41234.ingest.sentry.io/5678"),
]


# Written in session 7 after holdout22 was scored and before its misses were read or any
# detector changed again: command lines of tools that take a credential as an argument, the
# kind of text that has scored lowest unseen.
def nuget_key(rng):
    return "oy2" + rs(rng, 43, LOW)


def twine_token(rng):
    return "pypi-AgEIcHlwaS5vcmc" + rs(rng, 60, URLSAFE)


HOLDOUT23 = [
    P("h23-ncftp", "ftp", human_password, "$ ncftpput -u backup -p {s} ftp.acme.io /incoming db.tar.gz"),
    P("h23-wget-ftp-password", "shell", human_password, "$ wget --ftp-user=mirror --ftp-password={s} ftp://ftp.acme.io/pub/release.iso"),
    P("h23-svn-password", "svn", human_password, "$ svn checkout --username ci --password {s} --non-interactive https://svn.acme.io/repos/app/trunk"),
    P("h23-vault-userpass", "vault", human_password, "$ vault login -method=userpass username=ops password={s}"),
    P("h23-racadm", "idrac", human_password, "$ racadm -r 10.0.8.21 -u root -p {s} serveraction powercycle"),
    P("h23-plink-pw", "windows", human_password, "C:\\> plink.exe -ssh ops@10.0.4.9 -pw {s} -batch \"systemctl restart api\""),
    P("h23-redis-cli-user-pass", "redis", human_password, "$ redis-cli -h cache.acme.io --user app --pass {s} --no-auth-warning INFO"),
    P("h23-mysqlsh-uri", "mysql", human_password, "$ mysqlsh --sql app:{s}@db.acme.io:3306/shop -e 'select 1'"),
    P("h23-httpie-auth", "http", human_password, "$ http -a deploy:{s} POST https://ci.acme.io/job/api/build"),
    P("h23-twine-upload", "python", twine_token, "$ twine upload -u __token__ -p {s} dist/*"),
    P("h23-dotnet-nuget-push", "dotnet", nuget_key, "$ dotnet nuget push bin/Release/Acme.Core.2.4.1.nupkg --api-key {s} --source https://api.nuget.org/v3/index.json"),
    P("h23-gpg-passphrase", "gpg", human_password, "$ gpg --batch --yes --pinentry-mode loopback --passphrase {s} -d backup.tar.gpg"),
    P("h23-openssl-enc-k", "openssl", human_password, "$ openssl enc -d -aes-256-cbc -pbkdf2 -in db.dump.enc -out db.dump -k {s}"),
    P("h23-java-truststore-prop", "java", human_password, "$ java -Djavax.net.ssl.trustStore=/etc/app/trust.jks -Djavax.net.ssl.trustStorePassword={s} -jar app.jar"),
    P("h23-mvn-deploy-prop", "maven", human_password, "$ mvn -B deploy -Drepo.user=ci -Drepo.password={s} -DskipTests"),
    P("h23-gradle-project-prop", "gradle", generic_token, "$ ./gradlew publish -PsonatypeUsername=acme -PsonatypePassword={s}"),
    P("h23-cf-login", "cloudfoundry", human_password, "$ cf login -a https://api.sys.acme.io -u ops -p {s} -o acme -s prod"),
    P("h23-sqsh", "sybase", human_password, "$ sqsh -S SYBPROD -U sa -P {s} -C 'select @@version'"),
    P("h23-ldapadd-w", "ldap", human_password, "$ ldapadd -x -H ldap://ldap.acme.io -D cn=admin,dc=acme,dc=io -w {s} -f users.ldif"),
    P("h23-restic-env-inline", "backup", human_password, "$ RESTIC_REPOSITORY=s3:s3.acme.io/backups RESTIC_PASSWORD={s} restic snapshots"),
]

NEGATIVE23 = [
    P("h23-neg-ncftp-anon", "ftp", None, "$ ncftpget ftp.acme.io /tmp /pub/release.iso"),
    P("h23-neg-svn-no-password", "svn", None, "$ svn checkout --username ci --non-interactive https://svn.acme.io/repos/app/trunk"),
    P("h23-neg-vault-token-env", "vault", None, "$ vault login -method=token token=$VAULT_TOKEN"),
    P("h23-neg-gpg-passphrase-file", "gpg", None, "$ gpg --batch --pinentry-mode loopback --passphrase-file /run/secrets/gpg -d backup.tar.gpg"),
    P("h23-neg-java-store-path", "java", None, "$ java -Djavax.net.ssl.trustStore=/etc/app/trust.jks -Dserver.port=8443 -jar app.jar"),
    P("h23-neg-mvn-props", "maven", None, "$ mvn -B deploy -Drepo.user=ci -DskipTests -Dmaven.test.failure.ignore=true"),
    P("h23-neg-httpie-no-auth", "http", None, "$ http GET https://ci.acme.io/job/api/lastBuild/api/json"),
    P("h23-neg-openssl-enc-passfile", "openssl", None, "$ openssl enc -d -aes-256-cbc -pbkdf2 -in db.dump.enc -out db.dump -pass file:/run/secrets/k"),
]


# Written in session 7 after holdout23 was scored and before its misses were read or any
# detector changed again: more command lines and client configs of databases, brokers and
# infrastructure tools.
def azure_storage_key(rng):
    return base64.b64encode(rng.randbytes(64)).decode()


HOLDOUT24 = [
    P("h24-curl-user-long", "shell", human_password, "$ curl -sS --user admin:{s} https://grafana.acme.io/api/admin/stats"),
    P("h24-sudo-here-string", "shell", human_password, "$ sudo -S <<< '{s}' apt-get -y upgrade"),
    P("h24-knife-bootstrap", "chef", human_password, "$ knife bootstrap 10.0.5.12 -U ops -P {s} --sudo -N web-12"),
    P("h24-evil-winrm", "pentest", human_password, "$ evil-winrm -i 10.0.9.5 -u Administrator -p '{s}'"),
    P("h24-influx1-cli", "influxdb", human_password, "$ influx -host tsdb.acme.io -username admin -password {s} -execute 'SHOW DATABASES'"),
    P("h24-nats-cli", "nats", human_password, "$ nats pub --server nats://nats.acme.io:4222 --user ops --password {s} orders.created '{{}}'"),
    P("h24-azure-account-key", "azure", azure_storage_key, "$ az storage blob upload --account-name acmelogs --account-key {s} -c backups -f db.tar.gz -n db.tar.gz"),
    P("h24-ansible-encrypt-string", "ansible", human_password, "$ ansible-vault encrypt_string '{s}' --name 'db_password'"),
    P("h24-terraform-var", "terraform", human_password, "$ terraform apply -auto-approve -var 'region=eu-west-1' -var 'db_password={s}'"),
    P("h24-salt-ssh-passwd", "salt", human_password, "$ salt-ssh -i --user ops --passwd {s} 'web*' test.ping"),
    P("h24-clickhouse-client", "clickhouse", human_password, "$ clickhouse-client --host ch.acme.io --user default --password {s} --query 'SELECT 1'"),
    P("h24-hdbsql", "sap", human_password, "$ hdbsql -n hana.acme.io:30015 -u SYSTEM -p {s} \"SELECT * FROM M_DATABASE\""),
    P("h24-db2-connect-using", "db2", human_password, "$ db2 connect to SAMPLE user db2inst1 using {s}"),
    P("h24-freetds-tsql", "mssql", human_password, "$ tsql -S mssql.acme.io -p 1433 -U sa -P {s}"),
    P("h24-teradata-logon", "teradata", human_password, ".logon tdprod/dbc,{s};\nSELECT DATE;"),
    P("h24-nmcli-psk", "network", human_password, "$ nmcli connection modify office-wifi wifi-sec.key-mgmt wpa-psk wifi-sec.psk {s}"),
    P("h24-x11vnc-passwd", "vnc", human_password, "$ x11vnc -display :0 -forever -passwd {s} -rfbport 5900"),
    P("h24-kafka-jaas-cli", "kafka", human_password, "$ kafka-console-producer.sh --bootstrap-server kafka.acme.io:9093 --topic audit --producer-property 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"ops\" password=\"{s}\";'"),
    P("h24-s3cmd-keys", "s3", aws_secret, "$ s3cmd --access_key=AKIAIOSFODNN7ACMEKEY --secret_key={s} ls s3://acme-backups"),
    P("h24-wget-http-password", "shell", human_password, "$ wget --user=ci --password={s} https://artifacts.acme.io/releases/app-2.4.1.tar.gz"),
]

NEGATIVE24 = [
    P("h24-neg-curl-user-only", "shell", None, "$ curl -sS --user admin https://grafana.acme.io/api/admin/stats"),
    P("h24-neg-sudo-S-file", "shell", None, "$ sudo -S apt-get -y upgrade < /dev/null"),
    P("h24-neg-ansible-vault-view", "ansible", None, "$ ansible-vault view group_vars/prod/vault.yml --vault-password-file ~/.vault_pass"),
    P("h24-neg-terraform-var-region", "terraform", None, "$ terraform apply -auto-approve -var 'region=eu-west-1' -var 'instance_count=3'"),
    P("h24-neg-db2-connect", "db2", None, "$ db2 connect to SAMPLE user db2inst1"),
    P("h24-neg-nmcli-show", "network", None, "$ nmcli -f NAME,TYPE,DEVICE connection show --active"),
    P("h24-neg-clickhouse-no-pass", "clickhouse", None, "$ clickhouse-client --host ch.acme.io --user default --query 'SELECT 1'"),
    P("h24-neg-az-login-identity", "azure", None, "$ az storage blob upload --account-name acmelogs --auth-mode login -c backups -f db.tar.gz -n db.tar.gz"),
]


# Written in session 8 after holdout24 was scored and before its misses were read or any
# detector changed again: daemon, device and build configuration, and password-manager and
# secret-store command lines.
def laravel_key(rng):
    return base64.b64encode(rng.randbytes(32)).decode()


def erlang_cookie(rng):
    return rs(rng, 20, UP)


def juniper9(rng):
    return "$9$" + rs(rng, rng.randint(18, 30), AN + "./-")


def cargo_token(rng):
    return "cio" + rs(rng, 32, AN)


HOLDOUT25 = [
    P("h25-bitcoin-conf", "bitcoin", human_password, "server=1\nrpcuser=btcrpc\nrpcpassword={s}\nrpcallowip=10.0.0.0/8"),
    P("h25-muttrc-imap-pass", "mail", human_password, "set imap_user = \"ops@acme.io\"\nset imap_pass = \"{s}\"\nset folder = \"imaps://imap.acme.io:993\""),
    P("h25-muttrc-smtp-pass", "mail", human_password, "set smtp_url = \"smtp://ops@acme.io@smtp.acme.io:587/\"\nset smtp_pass = '{s}'"),
    P("h25-sssd-authtok", "ldap", human_password, "[domain/acme.io]\nid_provider = ldap\nldap_default_bind_dn = cn=sssd,ou=svc,dc=acme,dc=io\nldap_default_authtok_type = password\nldap_default_authtok = {s}"),
    P("h25-nslcd-bindpw", "ldap", human_password, "uri ldaps://ldap.acme.io\nbase dc=acme,dc=io\nbinddn cn=nslcd,ou=svc,dc=acme,dc=io\nbindpw {s}"),
    P("h25-dockerfile-env-space", "docker", human_password, "FROM postgres:16\nENV POSTGRES_USER app\nENV POSTGRES_PASSWORD {s}\nCOPY init.sql /docker-entrypoint-initdb.d/"),
    P("h25-docker-build-arg", "docker", human_password, "$ docker build --build-arg DB_PASSWORD={s} --build-arg APP_ENV=prod -t acme/api:2.4.1 ."),
    P("h25-rsyncd-secrets", "rsync", human_password, "==> /etc/rsyncd.secrets <==\nbackup:{s}"),
    P("h25-laravel-app-key", "php", laravel_key, "APP_NAME=Acme\nAPP_ENV=production\nAPP_KEY=base64:{s}\nAPP_DEBUG=false"),
    P("h25-zabbix-dbpassword", "zabbix", human_password, "LogFile=/var/log/zabbix/zabbix_server.log\nDBHost=localhost\nDBName=zabbix\nDBUser=zabbix\nDBPassword={s}"),
    P("h25-cisco-tacacs-key", "cisco", human_password, "tacacs server TAC1\n address ipv4 10.0.0.5\n key 0 {s}\n!"),
    P("h25-dovecot-passwd-file", "mail", human_password, "ops@acme.io:{{PLAIN}}{s}::::::"),
    P("h25-proxysql-admin", "proxysql", human_password, "admin_variables=\n{{\n    admin_credentials=\"admin:{s}\"\n    mysql_ifaces=\"0.0.0.0:6032\"\n}}"),
    P("h25-icecast-source", "icecast", human_password, "<authentication>\n    <source-password>{s}</source-password>\n    <admin-user>admin</admin-user>\n</authentication>"),
    P("h25-juniper-auth-key", "juniper", juniper9, "set protocols bgp group transit neighbor 192.0.2.1 authentication-key \"{s}\""),
    P("h25-erlang-setcookie", "erlang", erlang_cookie, "$ erl -name ops@node1.acme.io -setcookie {s} -remsh rabbit@node1"),
    P("h25-postfix-static-sasl", "postfix", human_password, "relayhost = [smtp.acme.io]:587\nsmtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = static:relay@acme.io:{s}"),
    P("h25-vault-kv-put", "vault", human_password, "$ vault kv put secret/prod/db username=app password={s}"),
    P("h25-poetry-http-basic", "python", human_password, "$ poetry config http-basic.acme ci {s}"),
    P("h25-cargo-login", "rust", cargo_token, "$ cargo login --registry acme {s}"),
]

NEGATIVE25 = [
    P("h25-neg-bitcoin-rpcauth", "bitcoin", None, "server=1\nrpcauth=btcrpc:{sha32}${sha64}\nrpcallowip=10.0.0.0/8"),
    P("h25-neg-sssd-no-authtok", "ldap", None, "[domain/acme.io]\nid_provider = ldap\nldap_default_bind_dn = cn=sssd,ou=svc,dc=acme,dc=io\nldap_tls_reqcert = demand"),
    P("h25-neg-dockerfile-arg-ref", "docker", None, "FROM postgres:16\nARG DB_PASSWORD\nENV POSTGRES_PASSWORD=${{DB_PASSWORD}}\nENV POSTGRES_USER app"),
    P("h25-neg-docker-build-secret", "docker", None, "$ docker build --secret id=npmrc,src=$HOME/.npmrc --build-arg APP_ENV=prod -t acme/api:2.4.1 ."),
    P("h25-neg-laravel-env", "php", None, "APP_NAME=Acme\nAPP_ENV=production\nAPP_DEBUG=false\nAPP_URL=https://acme.io"),
    P("h25-neg-cisco-secret-9", "cisco", None, "username admin privilege 15 secret 9 $9${an24}${b64}"),
    P("h25-neg-dovecot-passdb", "mail", None, "passdb {{\n  driver = passwd-file\n  args = scheme=SHA512-CRYPT username_format=%u /etc/dovecot/users\n}}"),
    P("h25-neg-vault-kv-get", "vault", None, "$ vault kv get -field=password secret/prod/db"),
]


# Written in session 8 after holdout25 was scored and before its misses were read or any
# detector changed again: archivers, code signing, Windows and virtualization administration,
# and database and CMS admin commands.
HOLDOUT26 = [
    P("h26-zip-P", "archive", human_password, "$ zip -r -P {s} backup.zip /srv/data"),
    P("h26-7z-p-attached", "archive", human_password, "$ 7z a -p{s} -mhe=on secrets.7z ./keys/"),
    P("h26-unzip-P", "archive", human_password, "$ unzip -P {s} -o payroll-2026.zip -d /tmp/payroll"),
    P("h26-rar-hp", "archive", human_password, "$ rar a -hp{s} archive.rar docs/"),
    P("h26-jarsigner-storepass", "java", human_password, "$ jarsigner -keystore release.jks -storepass {s} app-release.apk release"),
    P("h26-signtool-p", "windows", human_password, "> signtool sign /f codesign.pfx /p {s} /tr http://timestamp.acme.io /td sha256 setup.exe"),
    P("h26-osslsigncode-pass", "signing", human_password, "$ osslsigncode sign -pkcs12 cert.p12 -pass {s} -in app.exe -out app-signed.exe"),
    P("h26-redis-cli-a", "redis", human_password, "$ redis-cli -h cache.acme.io -p 6379 -a {s} --no-auth-warning INFO replication"),
    P("h26-smbclient-user-percent", "smb", human_password, "$ smbclient //fs01.acme.io/finance -U 'ACME\\ops%{s}' -c 'ls'"),
    P("h26-schtasks-rp", "windows", human_password, "> schtasks /Create /TN \"Nightly ETL\" /TR C:\\etl\\run.cmd /SC DAILY /ST 02:00 /RU ACME\\svc-etl /RP {s}"),
    P("h26-sc-config-password", "windows", human_password, "> sc.exe config AcmeAgent obj= \"ACME\\svc-agent\" password= \"{s}\""),
    P("h26-vboxmanage-guest", "virtualbox", human_password, "$ VBoxManage guestcontrol build-vm run --exe /bin/ls --username vagrant --password {s} -- ls /tmp"),
    P("h26-dsmod-pwd", "windows", human_password, "> dsmod user \"CN=Jo Doe,OU=Staff,DC=acme,DC=io\" -pwd {s} -mustchpwd yes"),
    P("h26-ktpass-pass", "kerberos", human_password, "> ktpass /out http.keytab /princ HTTP/web.acme.io@ACME.IO /mapuser svc-web /pass {s} /ptype KRB5_NT_PRINCIPAL /crypto AES256-SHA1"),
    P("h26-mysqladmin-password", "mysql", human_password, "$ mysqladmin -u root password '{s}'"),
    P("h26-drush-user-password", "drupal", human_password, "$ drush user:password admin '{s}'"),
    P("h26-nuget-setapikey", "nuget", nuget_key, "> nuget setapikey {s} -source https://nuget.acme.io/v3/index.json"),
    P("h26-esxcli-password", "vmware", human_password, "$ esxcli --server esx01.acme.io --username root --password {s} network ip interface list"),
    P("h26-vmrun-gp", "vmware", human_password, "$ vmrun -T ws -gu builder -gp {s} runProgramInGuest build.vmx /bin/true"),
    P("h26-crane-auth-login", "oci", human_password, "$ crane auth login registry.acme.io -u ci -p {s}"),
]

NEGATIVE26 = [
    P("h26-neg-zip-plain", "archive", None, "$ zip -r backup.zip /srv/data"),
    P("h26-neg-7z-no-pass", "archive", None, "$ 7z a -mhe=on secrets.7z ./keys/"),
    P("h26-neg-redis-cli-no-auth", "redis", None, "$ redis-cli -h cache.acme.io -p 6379 --no-auth-warning INFO replication"),
    P("h26-neg-schtasks-system", "windows", None, "> schtasks /Create /TN \"Nightly ETL\" /TR C:\\etl\\run.cmd /SC DAILY /RU SYSTEM"),
    P("h26-neg-sc-config-localsystem", "windows", None, "> sc.exe config AcmeAgent start= auto obj= LocalSystem"),
    P("h26-neg-jarsigner-verify", "java", None, "$ jarsigner -verify -verbose -certs app-release.apk"),
    P("h26-neg-mysqladmin-prompt", "mysql", None, "$ mysqladmin -u root -p status"),
    P("h26-neg-signtool-verify", "windows", None, "> signtool verify /pa /v setup.exe"),
]


# Written in session 8 after holdout26 was scored and before its misses were read or any
# detector changed again: secret stores, cloud secret CLIs, password-hashing tools, CI
# masking, and security testing tools.
def rclone_secret(rng):
    return rs(rng, 40, AN + "+/")


HOLDOUT27 = [
    P("h27-openssl-passwd", "openssl", human_password, "$ openssl passwd -6 '{s}'"),
    P("h27-mkpasswd", "shell", human_password, "$ mkpasswd -m sha-512 '{s}'"),
    P("h27-az-keyvault-set", "azure", human_password, "$ az keyvault secret set --vault-name acme-kv --name db-password --value '{s}'"),
    P("h27-aws-ssm-put", "aws", human_password, "$ aws ssm put-parameter --name /prod/db/password --value '{s}' --type SecureString --overwrite"),
    P("h27-op-item-create", "1password", human_password, "$ op item create --category=login --title 'prod db' --vault Ops username=app password='{s}'"),
    P("h27-bw-login", "bitwarden", human_password, "$ bw login ops@acme.io '{s}' --raw"),
    P("h27-doppler-set", "doppler", human_password, "$ doppler secrets set DB_PASSWORD='{s}' --project api --config prd"),
    P("h27-gha-add-mask", "github", human_password, "::add-mask::{s}"),
    P("h27-davfs2-secrets", "webdav", human_password, "# /etc/davfs2/secrets\nhttps://dav.acme.io/remote.php/webdav ops {s}"),
    P("h27-gcloud-secret-echo", "gcp", human_password, "$ gcloud secrets create db-password --data-file=<(echo -n '{s}')"),
    P("h27-argocd-new-password", "argocd", human_password, "$ argocd account update-password --account ci --current-password \"$OLD\" --new-password '{s}'"),
    P("h27-jenkins-cli-auth", "jenkins", human_password, "$ java -jar jenkins-cli.jar -s https://ci.acme.io/ -auth deploy:{s} build release-pipeline"),
    P("h27-rclone-config-create", "rclone", rclone_secret, "$ rclone config create acme-s3 s3 provider AWS access_key_id AKIAIOSFODNN7ACMEKEY secret_access_key {s} region eu-west-1"),
    P("h27-vault-write-userpass", "vault", human_password, "$ vault write auth/userpass/users/ops password='{s}' policies=dev"),
    P("h27-mongo-change-password", "mongodb", human_password, "test> db.changeUserPassword(\"app\", \"{s}\")"),
    P("h27-xh-bearer", "shell", human_password, "$ xh --bearer {s} GET https://api.acme.io/v1/me"),
    P("h27-gitlab-runner-register", "gitlab", human_password, "$ gitlab-runner register --non-interactive --url https://gitlab.acme.io --registration-token {s} --executor docker"),
    P("h27-nmap-script-args", "pentest", human_password, "$ nmap -p445 --script smb-enum-shares --script-args 'smbusername=ops,smbpassword={s}' 10.0.0.5"),
    P("h27-hydra-single", "pentest", human_password, "$ hydra -l admin -p '{s}' ssh://10.0.0.7"),
    P("h27-sqlmap-auth-cred", "pentest", human_password, "$ sqlmap -u 'https://app.acme.io/item?id=1' --auth-type basic --auth-cred 'admin:{s}' --batch"),
]

NEGATIVE27 = [
    P("h27-neg-openssl-passwd-stdin", "openssl", None, "$ openssl passwd -6 -stdin < /run/secrets/pw"),
    P("h27-neg-az-keyvault-show", "azure", None, "$ az keyvault secret show --vault-name acme-kv --name db-password --query value -o tsv"),
    P("h27-neg-aws-ssm-plain", "aws", None, "$ aws ssm put-parameter --name /prod/app/replicas --value 3 --type String --overwrite"),
    P("h27-neg-gha-add-mask-expr", "github", None, "::add-mask::${{{{ secrets.DB_PASSWORD }}}}"),
    P("h27-neg-bw-passwordenv", "bitwarden", None, "$ bw login ops@acme.io --passwordenv BW_PASSWORD --raw"),
    P("h27-neg-doppler-get", "doppler", None, "$ doppler secrets get DB_PASSWORD --plain --project api --config prd"),
    P("h27-neg-gitlab-runner-verify", "gitlab", None, "$ gitlab-runner verify --delete --name docker-runner-3"),
    P("h27-neg-hydra-wordlist", "pentest", None, "$ hydra -l admin -P /usr/share/wordlists/rockyou.txt ssh://10.0.0.7"),
]


# Written in session 8 after holdout27 was scored and before its misses were read or any
# detector changed again: network operating systems, Wi-Fi and embedded devices, server
# management controllers, and RADIUS.
HOLDOUT28 = [
    P("h28-edgeos-plaintext-password", "vyos", human_password, "set system login user ops authentication plaintext-password '{s}'"),
    P("h28-vyos-snmp-community", "vyos", human_password, "set service snmp community {s} authorization ro"),
    P("h28-fortios-set-passwd", "fortinet", human_password, "config user local\n    edit \"ops\"\n        set type password\n        set passwd {s}\n    next\nend"),
    P("h28-aruba-password-manager", "aruba", human_password, "password manager user-name admin plaintext {s}"),
    P("h28-huawei-password-simple", "huawei", human_password, "local-user admin password simple {s}\nlocal-user admin service-type ssh"),
    P("h28-huawei-cipher-plain", "huawei", human_password, "local-user ops password cipher {s} privilege level 15"),
    P("h28-radtest", "radius", human_password, "$ radtest ops {s} 127.0.0.1 0 testing123"),
    P("h28-freeradius-debug", "radius", human_password, "(0) Received Access-Request Id 41 from 10.0.0.9:51234 to 10.0.0.2:1812 length 73\n(0)   User-Name = \"ops\"\n(0)   User-Password = \"{s}\""),
    P("h28-macos-airport", "macos", human_password, "$ networksetup -setairportnetwork en0 AcmeCorp '{s}'"),
    P("h28-iwctl-passphrase", "wifi", human_password, "$ iwctl --passphrase '{s}' station wlan0 connect AcmeCorp"),
    P("h28-tasmota-backlog", "tasmota", human_password, "16:04:11.902 CMD: Backlog SSID1 AcmeIoT; Password1 {s}; WifiConfig 0"),
    P("h28-raspi-config-wifi", "raspberrypi", human_password, "$ sudo raspi-config nonint do_wifi_ssid_passphrase AcmeCorp '{s}'"),
    P("h28-ipmitool-user-set", "ipmi", human_password, "$ ipmitool -I lanplus -H 10.0.8.21 -U ADMIN -f /root/.ipmi user set password 3 '{s}'"),
    P("h28-racadm-set-password", "dell", human_password, "$ racadm set iDRAC.Users.3.Password {s}"),
    P("h28-mikrotik-ppp-secret", "mikrotik", human_password, "[admin@core] > /ppp secret add name=vpn-ops password=\"{s}\" service=l2tp profile=default-encryption"),
    P("h28-cisco-wlc-psk", "cisco", human_password, "(WLC) >config wlan security wpa akm psk set-key ascii {s} 3"),
    P("h28-junos-pre-shared-key", "juniper", human_password, "set security ike policy ike-pol pre-shared-key ascii-text \"{s}\""),
    P("h28-exos-snmp-community", "extreme", human_password, "configure snmp add community readwrite {s}"),
    P("h28-synology-setpw", "synology", human_password, "$ sudo synouser --setpw admin '{s}'"),
    P("h28-ilo-hponcfg", "hpe", human_password, "<USER_INFO MODE=\"write\">\n  <MOD_USER USER_LOGIN=\"ops\">\n    <PASSWORD value=\"{s}\"/>\n  </MOD_USER>\n</USER_INFO>"),
]

NEGATIVE28 = [
    P("h28-neg-vyos-encrypted", "vyos", None, "set system login user ops authentication encrypted-password '$6$rounds=656000$N0xk3a$9fX7qQ8mLz1o2uR3vT4wY5zA6bC7dE8fG9hI0jK1lM2nO3pQ4rS5tU6vW7xY8z'"),
    P("h28-neg-fortios-2fa", "fortinet", None, "config user local\n    edit \"ops\"\n        set two-factor fortitoken\n        set fortitoken FTKMOB1234567890\n    next\nend"),
    P("h28-neg-nmcli-ask", "wifi", None, "$ nmcli --ask device wifi connect AcmeCorp ifname wlan0"),
    P("h28-neg-synology-info", "synology", None, "$ sudo synouser --get admin"),
    P("h28-neg-racadm-get", "dell", None, "$ racadm get iDRAC.Users.3.UserName"),
    P("h28-neg-ipmitool-list", "ipmi", None, "$ ipmitool -I lanplus -H 10.0.8.21 -U ADMIN -f /root/.ipmi user list 1"),
    P("h28-neg-radius-reject", "radius", None, "(0) Login incorrect (pap: Cleartext password does not match \"known good\" password): [ops] (from client core port 0)"),
    P("h28-neg-huawei-irreversible", "huawei", None, "local-user admin password irreversible-cipher $1c$Zb\\;;.Q[Ua$s@YB8:XG3n(5]7=$o6P(Dp\"C'U[4$"),
]


# Written in session 8 after holdout28 was scored and before its misses were read or any
# detector changed again: mail clients, remote mounts, database administration procedures
# and tools, directory services.
HOLDOUT29 = [
    P("h29-swaks-auth-password", "mail", human_password, "$ swaks --to ops@acme.io --server smtp.acme.io:587 --auth LOGIN --auth-user relay --auth-password '{s}' --tls"),
    P("h29-sendemail-xp", "mail", human_password, "$ sendemail -f cron@acme.io -t ops@acme.io -s smtp.acme.io:587 -xu relay -xp {s} -u 'nightly' -m 'done'"),
    P("h29-offlineimap-remotepass", "mail", human_password, "[Repository Remote]\ntype = IMAP\nremotehost = imap.acme.io\nremoteuser = ops\nremotepass = {s}"),
    P("h29-mbsync-pass", "mail", human_password, "IMAPAccount acme\nHost imap.acme.io\nUser ops@acme.io\nPass {s}\nSSLType IMAPS"),
    P("h29-mailx-smtp-auth", "mail", human_password, "$ echo done | mailx -S smtp=smtp://smtp.acme.io:587 -S smtp-auth=login -S smtp-auth-user=relay -S smtp-auth-password={s} -s nightly ops@acme.io"),
    P("h29-sshfs-password-stdin", "sshfs", human_password, "$ sshfs ops@files.acme.io:/srv /mnt/files -o password_stdin <<< '{s}'"),
    P("h29-rclone-obscure", "rclone", human_password, "$ rclone obscure '{s}'"),
    P("h29-sp-addlogin", "mssql", human_password, "1> EXEC sp_addlogin 'reporting', '{s}', 'ReportsDB'\n2> GO"),
    P("h29-sp-password", "mssql", human_password, "1> EXEC sp_password NULL, '{s}', 'sa'\n2> GO"),
    P("h29-sp-addlinkedsrvlogin", "mssql", human_password, "EXEC sp_addlinkedsrvlogin @rmtsrvname = N'LEGACY', @useself = N'False', @locallogin = NULL, @rmtuser = N'etl', @rmtpassword = N'{s}'"),
    P("h29-neo4j-initial-password", "neo4j", human_password, "$ neo4j-admin dbms set-initial-password '{s}'"),
    P("h29-keytool-keypass", "java", human_password, "$ keytool -genkeypair -alias release -keyalg RSA -keystore release.jks -storepass:env KS_PASS -keypass {s} -dname CN=acme"),
    P("h29-hdbuserstore-set", "sap", human_password, "$ hdbuserstore SET BACKUP hana.acme.io:30015 BACKUP_OPERATOR {s}"),
    P("h29-nzsql-pw", "netezza", human_password, "$ nzsql -host nz.acme.io -d sales -u admin -pw {s} -c 'select 1'"),
    P("h29-vsql-w", "vertica", human_password, "$ vsql -h vertica.acme.io -U dbadmin -w {s} -c 'SELECT version()'"),
    P("h29-invoke-sqlcmd-password", "powershell", human_password, "PS> Invoke-Sqlcmd -ServerInstance sql01 -Database Reports -Username etl -Password '{s}' -Query 'SELECT 1'"),
    P("h29-ldappasswd-s", "ldap", human_password, "$ ldappasswd -H ldaps://ldap.acme.io -x -D cn=admin,dc=acme,dc=io -W -s '{s}' uid=ops,ou=people,dc=acme,dc=io"),
    P("h29-samba-tool-newpassword", "samba", human_password, "$ samba-tool user setpassword ops --newpassword='{s}'"),
    P("h29-realm-join-otp", "sssd", human_password, "$ realm join acme.io --one-time-password='{s}' --client-software=sssd"),
    P("h29-consul-agent-token", "consul", lambda r: uuid(r), "$ consul acl set-agent-token agent {s}"),
]

NEGATIVE29 = [
    P("h29-neg-swaks-prompt", "mail", None, "$ swaks --to ops@acme.io --server smtp.acme.io:587 --auth LOGIN --auth-user relay --tls"),
    P("h29-neg-sshfs-identity", "sshfs", None, "$ sshfs ops@files.acme.io:/srv /mnt/files -o IdentityFile=~/.ssh/id_ed25519,reconnect"),
    P("h29-neg-sp-helplogins", "mssql", None, "1> EXEC sp_helplogins 'reporting'\n2> GO"),
    P("h29-neg-neo4j-report", "neo4j", None, "$ neo4j-admin server report --to-path=/tmp/reports"),
    P("h29-neg-keytool-list", "java", None, "$ keytool -list -v -keystore release.jks -storepass:env KS_PASS"),
    P("h29-neg-hdbuserstore-list", "sap", None, "$ hdbuserstore LIST BACKUP"),
    P("h29-neg-ldappasswd-prompt", "ldap", None, "$ ldappasswd -H ldaps://ldap.acme.io -x -D cn=admin,dc=acme,dc=io -W -S uid=ops,ou=people,dc=acme,dc=io"),
    P("h29-neg-consul-members", "consul", None, "$ consul members -http-addr=https://consul.acme.io:8501"),
]


# Written in session 8 after holdout29 was scored and before its misses were read or any
# detector changed again: cloud, cluster and virtualization admin CLIs, cluster join and
# unseal material, and secrets handed to tools on stdin.
def hex32(rng):
    return rs(rng, 32, HEX)


def b64_32(rng):
    return base64.b64encode(rng.randbytes(32)).decode()


HOLDOUT30 = [
    P("h30-gcloud-sql-root-password", "gcp", human_password, "$ gcloud sql instances create orders-db --database-version=POSTGRES_15 --tier=db-custom-2-8192 --root-password='{s}'"),
    P("h30-aws-rds-master-password", "aws", human_password, "$ aws rds create-db-instance --db-instance-identifier orders --engine postgres --master-username app --master-user-password '{s}' --allocated-storage 50"),
    P("h30-pulumi-config-secret", "pulumi", human_password, "$ pulumi config set --secret dbPassword '{s}'"),
    P("h30-bcrypt-hashpw-literal", "python", human_password, "$ python3 -c 'import bcrypt; print(bcrypt.hashpw(b\"{s}\", bcrypt.gensalt()))'"),
    P("h30-podman-secret-here-string", "podman", human_password, "$ podman secret create db_password - <<< '{s}'"),
    P("h30-k3s-agent-token", "k3s", human_password, "$ k3s agent --server https://k3s.acme.io:6443 --token {s}"),
    P("h30-microk8s-join", "microk8s", hex32, "$ microk8s join 10.0.0.5:25000/{s}/2c0cb3284b05"),
    P("h30-consul-encrypt", "consul", b64_32, "$ consul agent -server -bootstrap-expect=3 -data-dir=/opt/consul -encrypt={s}"),
    P("h30-vault-unseal", "vault", b64_32, "$ vault operator unseal {s}"),
    P("h30-kafka-storage-add-scram", "kafka", human_password, "$ kafka-storage.sh format -t $CLUSTER_ID -c server.properties --add-scram 'SCRAM-SHA-512=[name=admin,password={s}]'"),
    P("h30-mc-admin-user-add", "minio", human_password, "$ mc admin user add acme ops '{s}'"),
    P("h30-openstack-os-password", "openstack", human_password, "$ openstack --os-auth-url https://keystone.acme.io:5000/v3 --os-username ops --os-password '{s}' server list"),
    P("h30-pveum-user-add", "proxmox", human_password, "$ pveum user add ops@pve --password '{s}' --comment 'ops team'"),
    P("h30-lxc-trust-password", "lxd", human_password, "$ lxc config set core.trust_password '{s}'"),
    P("h30-juju-config-root-password", "juju", human_password, "$ juju config mysql root-password='{s}'"),
    P("h30-cf-set-env", "cloudfoundry", human_password, "$ cf set-env orders-api DB_PASSWORD '{s}'"),
    P("h30-scw-init-secret-key", "scaleway", lambda r: uuid(r), "$ scw init access-key=SCWXXXXXXXXXXXXXXXXX secret-key={s} organization-id=11111111-2222-3333-4444-555555555555"),
    P("h30-rabbitmqctl-authenticate", "rabbitmq", human_password, "$ rabbitmqctl authenticate_user ops '{s}'"),
    P("h30-kubeseal-here-string", "kubernetes", human_password, "$ kubeseal --raw --namespace prod --name db --from-file=/dev/stdin <<< '{s}'"),
    P("h30-gh-auth-with-token", "github", lambda r: rs(r, 40, HEX), "$ gh auth login --hostname github.acme.io --with-token <<< {s}"),
]

NEGATIVE30 = [
    P("h30-neg-rds-managed-password", "aws", None, "$ aws rds create-db-instance --db-instance-identifier orders --engine postgres --master-username app --manage-master-user-password --allocated-storage 50"),
    P("h30-neg-pulumi-config-region", "pulumi", None, "$ pulumi config set aws:region eu-west-1"),
    P("h30-neg-vault-unseal-status", "vault", None, "$ vault operator unseal -reset"),
    P("h30-neg-k3s-token-file", "k3s", None, "$ k3s agent --server https://k3s.acme.io:6443 --token-file /var/lib/rancher/k3s/agent/token"),
    P("h30-neg-juju-config-plain", "juju", None, "$ juju config mysql max-connections=500"),
    P("h30-neg-cf-set-env-plain", "cloudfoundry", None, "$ cf set-env orders-api LOG_LEVEL debug"),
    P("h30-neg-podman-secret-file", "podman", None, "$ podman secret create db_password ./db_password.txt"),
    P("h30-neg-mc-admin-user-list", "minio", None, "$ mc admin user list acme"),
]


# Written in session 8 after holdout30 was scored and before its misses were read or any
# detector changed again: credentials as they cross the wire, in protocol transcripts and
# packet dumps, and the management and key files of network daemons.
def smtp_login_b64(rng):
    return base64.b64encode(human_password(rng).encode()).decode()


def b64url_token(rng):
    return base64.urlsafe_b64encode(rng.randbytes(30)).decode().rstrip("=")


HOLDOUT31 = [
    P("h31-pop3-pass", "mail", human_password, "+OK Dovecot ready.\r\nUSER ops\r\n+OK\r\nPASS {s}\r\n+OK Logged in."),
    P("h31-imap-login", "mail", human_password, "* OK [CAPABILITY IMAP4rev1] ready\r\na001 LOGIN ops \"{s}\"\r\na001 OK Logged in"),
    P("h31-smtp-auth-login", "mail", smtp_login_b64, "334 VXNlcm5hbWU6\r\nb3Bz\r\n334 UGFzc3dvcmQ6\r\n{s}\r\n235 2.7.0 Authentication successful"),
    P("h31-tshark-basic-credentials", "wireshark", human_password, "    Authorization: Basic b3BzOnh4eA==\\r\\n\n        Credentials: ops:{s}\n    Host: intranet.acme.io\\r\\n"),
    P("h31-requests-debug-bytes", "python", generic_token, "send: b'GET /v2/orders HTTP/1.1\\r\\nHost: api.acme.io\\r\\nX-Auth-Token: {s}\\r\\nAccept: */*\\r\\n\\r\\n'"),
    P("h31-irc-nickserv-identify", "irc", human_password, "[22:14] -> *NickServ* IDENTIFY {s}"),
    P("h31-irc-server-pass", "irc", human_password, ">> PASS {s}\r\n>> NICK opsbot\r\n>> USER opsbot 0 * :Ops Bot"),
    P("h31-xmpp-sasl-plain", "xmpp", smtp_plain, "SEND: <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{s}</auth>", wrap="base64"),
    P("h31-stomp-connect", "stomp", human_password, "CONNECT\naccept-version:1.2\nhost:broker.acme.io\nlogin:ops\npasscode:{s}\n\n\\x00"),
    P("h31-kong-key-auth", "kong", generic_token, "$ curl -X POST http://kong:8001/consumers/billing/key-auth -d key={s}"),
    P("h31-k8s-websocket-bearer", "kubernetes", b64url_token, "Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io.{s}, v4.channel.k8s.io"),
    P("h31-nntp-authinfo", "nntp", human_password, "200 news.acme.io ready\r\nAUTHINFO USER ops\r\n381 more\r\nAUTHINFO PASS {s}\r\n281 Ok"),
    P("h31-redis-resp-auth", "redis", human_password, "*3\\r\\n$4\\r\\nAUTH\\r\\n$3\\r\\nops\\r\\n$16\\r\\n{s}\\r\\n"),
    P("h31-soap-username-token", "soap", human_password, "<wsse:UsernameToken>\n  <wsse:Username>ops</wsse:Username>\n  <wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText\">{s}</wsse:Password>\n</wsse:UsernameToken>"),
    P("h31-openvpn-management-password", "openvpn", human_password, ">PASSWORD:Need 'Auth' username/password\nusername \"Auth\" ops\npassword \"Auth\" {s}\nSUCCESS: 'Auth' password entered, but not yet verified"),
    P("h31-chrony-keys", "ntp", lambda r: "HEX:" + rs(r, 40, HEX).upper(), "# /etc/chrony.keys\n1 SHA1 {s}"),
    P("h31-ntp-keys-ascii", "ntp", lambda r: rs(r, 16, AN), "# /etc/ntp.keys\n10 M {s}"),
    P("h31-mqtt-connect-dump", "mqtt", human_password, "MQ Telemetry Transport Protocol, Connect Command\n    User Name: ops\n    Password: {s}"),
    P("h31-ldap-simple-bind-dump", "ldap", human_password, "Lightweight Directory Access Protocol\n    LDAPMessage bindRequest(1) \"cn=admin,dc=acme,dc=io\" simple\n        authentication: simple (0)\n            simple: {s}"),
    P("h31-telnet-follow-stream", "telnet", human_password, "login: ops\r\nPassword:{s}\r\n\r\nLast login: Thu Dec  3 10:21:07 from 10.0.0.5"),
]

NEGATIVE31 = [
    P("h31-neg-pop3-failed", "mail", None, "+OK Dovecot ready.\r\nUSER ops\r\n+OK\r\n-ERR [AUTH] Authentication failed."),
    P("h31-neg-imap-xoauth", "mail", None, "a001 AUTHENTICATE XOAUTH2\r\n+ \r\na001 NO [AUTHENTICATIONFAILED] Invalid credentials"),
    P("h31-neg-smtp-prompt", "mail", None, "334 VXNlcm5hbWU6\r\n535 5.7.8 Authentication credentials invalid"),
    P("h31-neg-http-digest", "http", None, "Authorization: Digest username=\"ops\", realm=\"acme\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", response=\"6629fae49393a05397450978507c4ef1\""),
    P("h31-neg-www-authenticate", "http", None, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"acme\"\r\nContent-Length: 0"),
    P("h31-neg-irc-nick", "irc", None, ">> NICK opsbot\r\n>> USER opsbot 0 * :Ops Bot"),
    P("h31-neg-stomp-connected", "stomp", None, "CONNECTED\nversion:1.2\nheart-beat:0,0\nsession:ID:acme-broker-42"),
    P("h31-neg-ldap-anonymous", "ldap", None, "Lightweight Directory Access Protocol\n    LDAPMessage bindRequest(1) \"<ROOT>\" simple\n        authentication: simple (0)\n            simple: <MISSING>"),
]


# Written in session 8 after holdout31 was scored and before its misses were read or any
# detector changed again: credentials in the source and templates of less common languages
# (Erlang, Clojure, Tcl, R, COBOL, VB, Delphi, ABAP, PL/SQL, T-SQL, Chef, Jinja, Velocity,
# Liquid, Elixir, Haskell, Prolog, Emacs Lisp, AutoHotkey, VBScript).
HOLDOUT32 = [
    P("h32-erlang-sys-config", "erlang", human_password, "[{{app, [{{db, [{{host, \"db.acme.io\"}}, {{user, \"app\"}}, {{password, \"{s}\"}}]}}]}}]."),
    P("h32-clojure-edn", "clojure", human_password, "{{:db {{:host \"db.acme.io\" :user \"app\" :password \"{s}\"}}}}"),
    P("h32-tcl-set", "tcl", human_password, "set user \"app\"\nset password \"{s}\"\nspawn ssh $user@db.acme.io"),
    P("h32-r-sys-setenv", "r", human_password, "Sys.setenv(DB_USER = \"app\", DB_PASSWORD = \"{s}\")\ncon <- dbConnect(RPostgres::Postgres())"),
    P("h32-cobol-move", "cobol", human_password, "           MOVE \"app\" TO WS-DB-USER.\n           MOVE \"{s}\" TO WS-DB-PASSWORD."),
    P("h32-vbnet-dim", "vbnet", human_password, "Dim dbPassword As String = \"{s}\""),
    P("h32-delphi-params", "delphi", human_password, "FDConnection1.Params.UserName := 'app';\nFDConnection1.Params.Password := '{s}';"),
    P("h32-abap-assign", "abap", human_password, "DATA lv_password TYPE string.\nlv_password = '{s}'."),
    P("h32-plsql-declare", "plsql", human_password, "DECLARE\n  v_password VARCHAR2(30) := '{s}';\nBEGIN"),
    P("h32-tsql-declare", "mssql", human_password, "DECLARE @pwd NVARCHAR(50) = N'{s}';\nEXEC dbo.rotate_login @login = N'etl', @pwd = @pwd;"),
    P("h32-chef-node-attribute", "chef", human_password, "node.default['db']['user'] = 'app'\nnode.default['db']['password'] = '{s}'"),
    P("h32-jinja-set", "jinja", human_password, "{{% set db_password = '{s}' %}}\nDATABASE_URL=postgres://app:{{{{ db_password }}}}@db/app"),
    P("h32-velocity-set", "velocity", human_password, "#set($apiPassword = \"{s}\")\n$client.login(\"ops\", $apiPassword)"),
    P("h32-liquid-assign", "liquid", human_password, "{{% assign smtp_password = \"{s}\" %}}"),
    P("h32-elixir-repo-config", "elixir", human_password, "config :orders, Orders.Repo,\n  username: \"app\",\n  password: \"{s}\",\n  hostname: \"db.acme.io\""),
    P("h32-haskell-connectinfo", "haskell", human_password, "defaultConnectInfo {{ connectHost = \"db.acme.io\", connectUser = \"app\", connectPassword = \"{s}\" }}"),
    P("h32-prolog-fact", "prolog", human_password, "db_user(app).\ndb_password('{s}')."),
    P("h32-emacs-smtp-credentials", "elisp", human_password, "(setq smtpmail-auth-credentials '((\"smtp.acme.io\" 587 \"ops@acme.io\" \"{s}\")))"),
    P("h32-autohotkey-send", "autohotkey", human_password, "WinWaitActive, Sign in\nSend, ops{{Tab}}{s}{{Enter}}"),
    P("h32-vbscript-properties", "vbscript", human_password, "objConnection.Properties(\"User ID\") = \"app\"\nobjConnection.Properties(\"Password\") = \"{s}\""),
]

NEGATIVE32 = [
    P("h32-neg-erlang-getenv", "erlang", None, "[{{app, [{{db, [{{user, \"app\"}}, {{password, os:getenv(\"DB_PASSWORD\")}}]}}]}}]."),
    P("h32-neg-clojure-getenv", "clojure", None, "{{:db {{:user \"app\" :password (System/getenv \"DB_PASSWORD\")}}}}"),
    P("h32-neg-r-setenv-tz", "r", None, "Sys.setenv(TZ = \"UTC\", LANG = \"en_US.UTF-8\")"),
    P("h32-neg-cobol-spaces", "cobol", None, "           MOVE SPACES TO WS-DB-PASSWORD."),
    P("h32-neg-abap-declare", "abap", None, "DATA lv_password TYPE string.\nCALL FUNCTION 'GET_SECRET' IMPORTING ev_value = lv_password."),
    P("h32-neg-jinja-lookup", "jinja", None, "{{% set db_password = lookup('env', 'DB_PASSWORD') %}}"),
    P("h32-neg-chef-port", "chef", None, "node.default['db']['port'] = 5432\nnode.default['db']['password'] = data_bag_item('db', 'prod')['password']"),
    P("h32-neg-tsql-declare-only", "mssql", None, "DECLARE @pwd NVARCHAR(50);\nSELECT @pwd = secret FROM vault.secrets WHERE name = N'etl';"),
]


# Written in session 9 after holdout32 was scored and before its misses were read or any
# detector changed again: credentials named in the language of the application or its
# operators (German, French, Spanish, Portuguese, Dutch, Polish, Swedish, Russian, Japanese,
# Chinese, Italian, Turkish, Czech, Korean, Finnish, Hungarian, Indonesian), as localized
# software and the people who run it write them into logs and configuration.
HOLDOUT33 = [
    P("h33-de-passwort-ini", "german", human_password, "[Datenbank]\nHost = {h}\nBenutzer = app\nPasswort = {s}"),
    P("h33-fr-mot-de-passe-log", "french", human_password, "{t} INFO connexion de l'utilisateur {u} avec le mot de passe : {s}"),
    P("h33-es-contrasena-yaml", "spanish", human_password, "base_de_datos:\n  servidor: {h}\n  usuario: app\n  contraseña: {s}"),
    P("h33-pt-senha-json", "portuguese", human_password, "{{\"usuario\": \"app\", \"senha\": \"{s}\", \"servidor\": \"{h}\"}}"),
    P("h33-nl-wachtwoord-env", "dutch", human_password, "DB_GEBRUIKER=app\nDB_WACHTWOORD={s}\nDB_HOST={h}"),
    P("h33-pl-haslo", "polish", human_password, "użytkownik: {u}\nhasło: {s}"),
    P("h33-sv-losenord", "swedish", human_password, "anvandare={u} losenord={s} server={h}"),
    P("h33-ru-parol", "russian", human_password, "Пользователь: {u}\nПароль: {s}\nСервер: {h}"),
    P("h33-ja-password", "japanese", human_password, "ユーザー名: {u}\nパスワード: {s}"),
    P("h33-zh-mima-fullwidth", "chinese", human_password, "用户名：{u}\n密码：{s}"),
    P("h33-it-chiave-api", "italian", generic_token, "{t} configurazione caricata: chiave API = {s}"),
    P("h33-de-api-schluessel", "german", generic_token, "API-Schlüssel: {s}"),
    P("h33-fr-jeton-nbsp", "french", generic_token, "jeton d’accès\u00a0: {s}"),
    P("h33-es-token-acceso", "spanish", generic_token, "{t} solicitud autenticada con token de acceso={s}"),
    P("h33-tr-sifre", "turkish", human_password, "kullanıcı: {u}\nşifre: {s}"),
    P("h33-cs-heslo", "czech", human_password, "uživatel={u} heslo={s}"),
    P("h33-ko-bimilbeonho", "korean", human_password, "사용자: {u}\n비밀번호: {s}"),
    P("h33-fi-salasana", "finnish", human_password, "käyttäjä: {u}\nsalasana: {s}"),
    P("h33-hu-jelszo", "hungarian", human_password, "felhasználó={u} jelszó={s}"),
    P("h33-id-kata-sandi", "indonesian", human_password, "pengguna: {u}, kata sandi: {s}"),
]

NEGATIVE33 = [
    P("h33-neg-de-passwort-vergessen", "german", None, "{t} Benutzer {u} hat 'Passwort vergessen' angefordert"),
    P("h33-neg-fr-mot-de-passe-modifie", "french", None, "{t} Le mot de passe de l'utilisateur {u} a été modifié."),
    P("h33-neg-es-contrasena-incorrecta", "spanish", None, "{t} Contraseña incorrecta para el usuario {u} (intento 3 de 5)"),
    P("h33-neg-ru-parol-izmenen", "russian", None, "{t} Пароль пользователя {u} изменён"),
    P("h33-neg-ja-password-expired", "japanese", None, "{t} パスワードの有効期限が切れています: {u}"),
    P("h33-neg-zh-mima-masked", "chinese", None, "用户名：{u}\n密码：********"),
    P("h33-neg-pt-senha-env", "portuguese", None, "senha: ${{DB_SENHA}}"),
    P("h33-neg-nl-wachtwoord-leeg", "dutch", None, "DB_GEBRUIKER=app\nDB_WACHTWOORD=\nDB_HOST={h}"),
]


# Written in session 9 after holdout33 was scored and before its misses were read or any
# detector changed again: credentials named in languages and scripts holdout33 did not use
# (Greek, Hebrew, Arabic, Persian, Hindi, Thai, Vietnamese, Romanian, Danish, Norwegian,
# Catalan, Croatian, Bulgarian, Ukrainian, Estonian, Lithuanian, Malay, Swahili, traditional
# Chinese), and other words for the same thing in languages it did (Kennwort, mdp, clave,
# palavra-passe, 口令).
HOLDOUT34 = [
    P("h34-el-kodikos", "greek", human_password, "χρήστης: {u}\nκωδικός πρόσβασης: {s}"),
    P("h34-he-sisma", "hebrew", human_password, "שם משתמש: {u}\nסיסמה: {s}"),
    P("h34-ar-kalimat-almurur", "arabic", human_password, "اسم المستخدم: {u}\nكلمة المرور: {s}"),
    P("h34-fa-ramz-obur", "persian", human_password, "نام کاربری: {u}\nرمز عبور: {s}"),
    P("h34-hi-password", "hindi", human_password, "उपयोगकर्ता: {u}\nपासवर्ड: {s}"),
    P("h34-th-rahat-phan", "thai", human_password, "ชื่อผู้ใช้: {u}\nรหัสผ่าน: {s}"),
    P("h34-vi-mat-khau", "vietnamese", human_password, "{t} đăng nhập: tên người dùng={u} mật khẩu={s}"),
    P("h34-ro-parola", "romanian", human_password, "utilizator: {u}\nparolă: {s}"),
    P("h34-da-adgangskode", "danish", human_password, "brugernavn={u}\nadgangskode={s}"),
    P("h34-no-passord-yaml", "norwegian", human_password, "database:\n  brukernavn: app\n  passord: {s}"),
    P("h34-ca-contrasenya", "catalan", human_password, "usuari: {u}, contrasenya: {s}"),
    P("h34-hr-lozinka", "croatian", human_password, "korisnik={u} lozinka={s}"),
    P("h34-bg-parola", "bulgarian", human_password, "потребител: {u}\nпарола: {s}"),
    P("h34-uk-parol-json", "ukrainian", human_password, "{{\"користувач\": \"{u}\", \"пароль\": \"{s}\"}}"),
    P("h34-et-parool", "estonian", human_password, "kasutaja: {u}\nparool: {s}"),
    P("h34-lt-slaptazodis", "lithuanian", human_password, "vartotojas={u} slaptažodis={s}"),
    P("h34-ms-kata-laluan", "malay", human_password, "nama pengguna: {u}\nkata laluan: {s}"),
    P("h34-sw-nenosiri", "swahili", human_password, "jina la mtumiaji: {u}\nnenosiri: {s}"),
    P("h34-zh-tw-mima", "chinese", human_password, "帳號：{u}\n密碼：{s}"),
    P("h34-de-kennwort", "german", human_password, "{t} Anmeldung {u}: Kennwort={s}"),
    P("h34-fr-mdp", "french", human_password, "identifiant : {u} / mdp : {s}"),
    P("h34-es-clave", "spanish", human_password, "usuario={u} clave={s}"),
    P("h34-pt-palavra-passe", "portuguese", human_password, "utilizador: {u}\npalavra-passe: {s}"),
    P("h34-zh-kouling", "chinese", human_password, "数据库口令：{s}"),
]

NEGATIVE34 = [
    P("h34-neg-el-wrong", "greek", None, "{t} Λάθος κωδικός πρόσβασης για τον χρήστη {u}"),
    P("h34-neg-ar-reset", "arabic", None, "{t} تم إعادة تعيين كلمة المرور للمستخدم {u}"),
    P("h34-neg-vi-expired", "vietnamese", None, "{t} mật khẩu của {u} đã hết hạn"),
    P("h34-neg-da-masked", "danish", None, "brugernavn={u}\nadgangskode=********"),
    P("h34-neg-no-env", "norwegian", None, "database:\n  brukernavn: app\n  passord: ${{DB_PASSORD}}"),
    P("h34-neg-zh-tw-changed", "chinese", None, "{t} 使用者 {u} 的密碼已變更"),
    P("h34-neg-de-kennwort-falsch", "german", None, "{t} Anmeldung {u} fehlgeschlagen: Kennwort falsch"),
    P("h34-neg-fr-mdp-oublie", "french", None, "{t} {u} a cliqué sur « mdp oublié »"),
]


# Written in session 9 after holdout34 was scored (it had no misses to read) and before any
# detector changed again: credentials people hand each other in sentences, as chat exports,
# ticket comments and e-mails land in an audit trail, in English and three other languages.
HOLDOUT35 = [
    P("h35-slack-password-is", "chat", human_password, "[{t}] {u}: staging db password is {s} , don't share it"),
    P("h35-slack-pw-colon", "chat", human_password, "[{t}] {u}: pw: {s}"),
    P("h35-slack-creds-slash", "chat", human_password, "[{t}] {u}: creds for the vpn box are ops / {s}"),
    P("h35-ticket-temp-password", "ticket", human_password, "Comment by {u} on INC-4412: Reset done. Temporary password for carol is {s} (must be changed at first login)."),
    P("h35-ticket-login-with", "ticket", human_password, "Comment by {u}: you can log in with admin and {s} until SSO is fixed"),
    P("h35-email-new-password", "email", human_password, "From: it-helpdesk@acme.io\nSubject: Your new account\n\nHi Bob,\nyour username is bob.smith and your initial password is {s}\nRegards, IT"),
    P("h35-email-use-as-password", "email", human_password, "Please use {s} as the password for the shared mailbox until Friday."),
    P("h35-chat-api-key-here", "chat", generic_token, "[{t}] {u}: here's the api key for the sandbox: {s}"),
    P("h35-chat-token-is", "chat", generic_token, "[{t}] {u}: the deploy token is {s} fyi"),
    P("h35-chat-the-key-quoted", "chat", generic_token, "[{t}] {u}: key is \"{s}\" (prod, read-only)"),
    P("h35-ticket-wifi-password", "ticket", human_password, "Guest wifi: SSID AcmeGuest, password {s}"),
    P("h35-email-pin", "email", lambda r: str(r.randint(100000, 999999)), "Your one-time PIN for the door controller is {s}. It expires in 24 hours."),
    P("h35-chat-changed-to", "chat", human_password, "[{t}] {u}: changed the root password to {s} , updated the runbook"),
    P("h35-chat-try", "chat", human_password, "[{t}] {u}: try {s} for the jenkins admin, that's what the old runbook says"),
    P("h35-de-passwort-ist", "chat", human_password, "[{t}] {u}: das Passwort für den Testserver ist {s}"),
    P("h35-es-contrasena-es", "chat", human_password, "[{t}] {u}: la contraseña del servidor de pruebas es {s}"),
    P("h35-fr-mot-de-passe-est", "chat", human_password, "[{t}] {u}: le mot de passe du serveur de test est {s}"),
    P("h35-jira-code-block", "ticket", human_password, "Steps to reproduce:\n{{code}}\nmysql -h db.acme.io -u app -p{s}\n{{code}}"),
    P("h35-markdown-inline-code", "chat", human_password, "[{t}] {u}: the password is `{s}`"),
    P("h35-teams-credentials-two-lines", "chat", human_password, "[{t}] {u}: user: svc_backup\n[{t}] {u}: pass: {s}"),
]

NEGATIVE35 = [
    P("h35-neg-reset-email", "email", None, "Hi Bob, we reset your password. You will receive a link at bob@acme.io to choose a new one."),
    P("h35-neg-policy", "ticket", None, "Password must be at least 12 characters and contain a digit."),
    P("h35-neg-in-vault", "chat", None, "[{t}] {u}: the password is in the vault under prod/db, ask in #sre for access"),
    P("h35-neg-dont-share", "chat", None, "[{t}] {u}: please don't paste passwords in this channel"),
    P("h35-neg-token-expired", "chat", None, "[{t}] {u}: the deploy token expired again, rotating it now"),
    P("h35-neg-use-sso", "ticket", None, "Comment by {u}: use your SSO password, not the old LDAP one."),
    P("h35-neg-de-abgelaufen", "chat", None, "[{t}] {u}: das Passwort ist abgelaufen, bitte neu setzen"),
    P("h35-neg-pin-length", "email", None, "Your PIN is 6 digits long and expires in 24 hours."),
]


# Written in session 9 after holdout35 was scored and before its misses were read or any
# detector changed again: more of the ways people write a secret into a sentence (support
# chats, SMS, commit messages, code review, incident timelines, voice-to-text), and the same
# sentences in Italian, Portuguese and Dutch.
HOLDOUT36 = [
    P("h36-support-my-password-is", "chat", human_password, "Customer: hi, I can't log in, my password is {s} and it says invalid"),
    P("h36-sms-passcode", "sms", lambda r: str(r.randint(1000, 99999999)), "ACME: your passcode is {s}. Do not share it with anyone."),
    P("h36-here-you-go", "chat", human_password, "[{t}] {u}: sure, here you go: {s} (it's the ftp one)"),
    P("h36-commit-remove-hardcoded", "git", human_password, "commit 3f9a2c1\n    Remove hardcoded password {s} from settings.py"),
    P("h36-review-comment", "review", human_password, "{u} commented on settings.py line 42: don't commit the password ({s}), read it from the environment"),
    P("h36-incident-timeline", "incident", human_password, "{t} {u} rotated the admin password (old: {s}) after the leak"),
    P("h36-voice-transcript", "voice", human_password, "Transcript: okay so the password for the router is {s} all one word"),
    P("h36-password-equals-in-sentence", "chat", human_password, "[{t}] {u}: set password={s} on the new replica and it came up"),
    P("h36-passphrase-for", "chat", human_password, "[{t}] {u}: the passphrase for the gpg key is {s}"),
    P("h36-secret-for-webhook", "chat", generic_token, "[{t}] {u}: webhook secret for the staging hook is {s}"),
    P("h36-token-paste-newline", "chat", generic_token, "[{t}] {u}: new token below\n{s}"),
    P("h36-login-slash-paren", "ticket", human_password, "Comment by {u}: test account (tester / {s}) is ready"),
    P("h36-credentials-colon-pair", "email", human_password, "Credentials: jdoe:{s}"),
    P("h36-it-la-password-e", "chat", human_password, "[{t}] {u}: la password del server di test è {s}"),
    P("h36-pt-a-senha-e", "chat", human_password, "[{t}] {u}: a senha do servidor de teste é {s}"),
    P("h36-nl-wachtwoord-is", "chat", human_password, "[{t}] {u}: het wachtwoord van de testserver is {s}"),
    P("h36-password-quoted-single", "chat", human_password, "[{t}] {u}: password is '{s}' without the quotes"),
    P("h36-pwd-abbrev-sentence", "chat", human_password, "[{t}] {u}: pwd for the kiosk is {s}"),
    P("h36-pin-code-door", "chat", lambda r: str(r.randint(1000, 999999)), "[{t}] {u}: the door code is {s}#"),
    P("h36-api-key-email", "email", generic_token, "Hello,\nThe API key for your trial account is {s}.\nBest, ACME Support"),
]

NEGATIVE36 = [
    P("h36-neg-forgot", "chat", None, "Customer: hi, I forgot my password and the reset mail never arrives"),
    P("h36-neg-sms-never-share", "sms", None, "ACME: we will never ask for your passcode."),
    P("h36-neg-commit-env", "git", None, "commit 3f9a2c1\n    Read the database password from the environment"),
    P("h36-neg-rotated", "incident", None, "{t} {u} rotated the admin password after the leak"),
    P("h36-neg-it-scaduta", "chat", None, "[{t}] {u}: la password è scaduta, la cambio io"),
    P("h36-neg-pt-errada", "chat", None, "[{t}] {u}: a senha está errada de novo"),
    P("h36-neg-nl-vergeten", "chat", None, "[{t}] {u}: ik ben mijn wachtwoord vergeten"),
    P("h36-neg-token-below-none", "chat", None, "[{t}] {u}: new token below, check your DMs"),
]


# Written in session 9 after holdout36 was scored and before its misses were read or any
# detector changed again: credentials in the debug dumps of objects and errors that
# frameworks and languages print into logs (Go %+v, Rust {:?}, PHP var_dump, Ruby inspect,
# Elixir inspect, Kotlin and Python data classes, Java toString, .NET exceptions, Python
# tracebacks with locals, Spring's /env, Ansible -vvv, Node's util.inspect).
HOLDOUT37 = [
    P("h37-go-struct-plus-v", "go", human_password, "{t} config loaded: &{{Host:{h} Port:5432 User:app Password:{s} SSLMode:require}}"),
    P("h37-rust-debug", "rust", human_password, "{t} DEBUG settings: DbConfig {{ host: \"{h}\", user: \"app\", password: \"{s}\" }}"),
    P("h37-php-var-dump", "php", human_password, "array(3) {{\n  [\"user\"]=>\n  string(3) \"app\"\n  [\"password\"]=>\n  string(12) \"{s}\"\n  [\"host\"]=>\n  string(9) \"localhost\"\n}}"),
    P("h37-ruby-inspect", "ruby", human_password, "#<DbConfig:0x000055d5c8 @host=\"{h}\", @user=\"app\", @password=\"{s}\">"),
    P("h37-elixir-inspect", "elixir", human_password, "[debug] opts: [hostname: \"{h}\", username: \"app\", password: \"{s}\", pool_size: 10]"),
    P("h37-kotlin-data-class", "kotlin", human_password, "{t} INFO  Connecting with DbSettings(url=jdbc:postgresql://{h}/app, user=app, password={s}, poolSize=10)"),
    P("h37-python-dataclass-repr", "python", human_password, "{t} DEBUG settings=Settings(db_host='{h}', db_user='app', db_password='{s}', debug=False)"),
    P("h37-java-tostring", "java", human_password, "{t} INFO  DataSourceConfig{{url='jdbc:mysql://{h}/app', username='app', password='{s}'}}"),
    P("h37-dotnet-exception", "dotnet", human_password, "System.InvalidOperationException: Cannot open database with connection string 'Server={h};Database=app;User Id=app;Password={s};'\n   at Acme.Data.Db.Open()"),
    P("h37-python-traceback-locals", "python", human_password, "  File \"/srv/app/db.py\", line 42, in connect\n    conn = psycopg2.connect(host=host, password=password)\n    host = '{h}'\n    password = '{s}'"),
    P("h37-spring-env-actuator", "spring", human_password, "{{\"name\":\"applicationConfig: [classpath:/application.yml]\",\"properties\":{{\"spring.datasource.password\":{{\"value\":\"{s}\"}}}}}}"),
    P("h37-ansible-vvv", "ansible", human_password, "<{h}> ESTABLISH SSH CONNECTION FOR USER: deploy\nok: [{h}] => {{\"ansible_facts\": {{}}, \"invocation\": {{\"module_args\": {{\"login_password\": \"{s}\", \"login_user\": \"app\"}}}}}}"),
    P("h37-node-util-inspect", "node", human_password, "{t} debug config: {{ host: '{h}', user: 'app', password: '{s}', port: 5432 }}"),
    P("h37-go-map-print", "go", generic_token, "{t} headers: map[Accept:[application/json] Authorization:[Bearer {s}] User-Agent:[acme/1.2]]"),
    P("h37-python-dict-repr", "python", generic_token, "{t} request kwargs: {{'url': 'https://api.acme.io/v1', 'headers': {{'X-Api-Key': '{s}'}}, 'timeout': 30}}"),
    P("h37-java-map-tostring", "java", generic_token, "{t} DEBUG headers={{Content-Type=application/json, X-Auth-Token={s}, Accept=*/*}}"),
    P("h37-clojure-map", "clojure", human_password, "{t} DEBUG db-spec {{:dbtype \"postgresql\", :host \"{h}\", :user \"app\", :password \"{s}\"}}"),
    P("h37-perl-data-dumper", "perl", human_password, "$VAR1 = {{\n          'user' => 'app',\n          'password' => '{s}',\n          'host' => '{h}'\n        }};"),
    P("h37-scala-case-class", "scala", human_password, "{t} INFO DbConf(jdbc:postgresql://{h}/app,app,{s})"),
    P("h37-swift-dump", "swift", human_password, "▿ Credentials\n  - user: \"app\"\n  - password: \"{s}\""),
]

NEGATIVE37 = [
    P("h37-neg-terraform-sensitive", "terraform", None, "  + password = (sensitive value)\n  + username = \"app\""),
    P("h37-neg-rust-redacted", "rust", None, "{t} DEBUG settings: DbConfig {{ host: \"{h}\", user: \"app\", password: \"<redacted>\" }}"),
    P("h37-neg-go-stars", "go", None, "{t} config loaded: &{{Host:{h} Port:5432 User:app Password:*** SSLMode:require}}"),
    P("h37-neg-pydantic-secretstr", "python", None, "{t} DEBUG settings=Settings(db_host='{h}', db_password=SecretStr('**********'))"),
    P("h37-neg-rails-filtered", "ruby", None, "Parameters: {{\"user\"=>{{\"email\"=>\"bob@acme.io\", \"password\"=>\"[FILTERED]\"}}}}"),
    P("h37-neg-kotlin-null", "kotlin", None, "{t} INFO  Connecting with DbSettings(url=jdbc:postgresql://{h}/app, user=app, password=null, poolSize=10)"),
    P("h37-neg-spring-masked", "spring", None, "{{\"spring.datasource.password\":{{\"value\":\"******\"}}}}"),
    P("h37-neg-java-protected", "java", None, "{t} INFO  DataSourceConfig{{url='jdbc:mysql://{h}/app', username='app', password=[PROTECTED]}}"),
]


# Written in session 9 after holdout37 was scored and before its misses were read or any
# detector changed again: credentials inside cloud and cluster audit events and deployment
# tool output (CloudTrail requestParameters, GCP and Azure activity logs, Kubernetes audit
# events, Helm --set, CloudFormation and ARM parameters, Pulumi config, GitHub Actions logs,
# Argo CD parameters, Nomad and Consul), as an audit log ingests them from other systems.
HOLDOUT38 = [
    P("h38-cloudtrail-create-db", "aws", human_password, "{{\"eventSource\":\"rds.amazonaws.com\",\"eventName\":\"CreateDBInstance\",\"requestParameters\":{{\"dBInstanceIdentifier\":\"app-prod\",\"masterUsername\":\"admin\",\"masterUserPassword\":\"{s}\"}}}}"),
    P("h38-cloudtrail-modify-user", "aws", human_password, "{{\"eventName\":\"CreateLoginProfile\",\"requestParameters\":{{\"userName\":\"{u}\",\"password\":\"{s}\",\"passwordResetRequired\":true}}}}"),
    P("h38-gcp-audit-sql-user", "gcp", human_password, "{{\"protoPayload\":{{\"methodName\":\"cloudsql.users.insert\",\"request\":{{\"name\":\"app\",\"password\":\"{s}\",\"host\":\"%\"}}}}}}"),
    P("h38-azure-activity-arm-param", "azure", human_password, "{{\"operationName\":\"Microsoft.Resources/deployments/write\",\"properties\":{{\"parameters\":{{\"adminPassword\":{{\"value\":\"{s}\"}}}}}}}}"),
    P("h38-k8s-audit-secret-create", "kubernetes", smtp_login_b64, "{{\"kind\":\"Event\",\"verb\":\"create\",\"objectRef\":{{\"resource\":\"secrets\",\"name\":\"db\"}},\"requestObject\":{{\"kind\":\"Secret\",\"data\":{{\"password\":\"{s}\"}}}}}}"),
    P("h38-k8s-audit-stringdata", "kubernetes", human_password, "{{\"verb\":\"patch\",\"objectRef\":{{\"resource\":\"secrets\"}},\"requestObject\":{{\"stringData\":{{\"DB_PASS\":\"{s}\"}}}}}}"),
    P("h38-helm-set", "helm", human_password, "{t} argo: helm upgrade --install app ./chart --set postgresql.auth.password={s} --set image.tag=1.4.2"),
    P("h38-cfn-parameter-overrides", "aws", human_password, "$ aws cloudformation deploy --template-file db.yml --stack-name db --parameter-overrides DBUser=admin DBPassword={s}"),
    P("h38-pulumi-config-set", "pulumi", human_password, "$ pulumi config set dbPassword {s}"),
    P("h38-gha-env-dump", "github", generic_token, "Run ./deploy.sh\n  env:\n    AWS_REGION: eu-west-1\n    DEPLOY_API_TOKEN: {s}\n    CI: true"),
    P("h38-argocd-app-set", "argocd", human_password, "$ argocd app set billing -p db.password={s} -p replicas=3"),
    P("h38-nomad-var-put", "nomad", human_password, "$ nomad var put nomad/jobs/web db_password={s}"),
    P("h38-consul-kv-put", "consul", human_password, "$ consul kv put app/prod/db/password {s}"),
    P("h38-az-sql-create", "azure", human_password, "$ az sql server create -n sql-prod -g rg-prod -u sqladmin -p '{s}'"),
    P("h38-gcloud-sql-set-password", "gcp", human_password, "$ gcloud sql users set-password app --instance=prod --password='{s}'"),
    P("h38-eks-audit-configmap", "kubernetes", human_password, "{{\"verb\":\"update\",\"objectRef\":{{\"resource\":\"configmaps\",\"name\":\"app-config\"}},\"requestObject\":{{\"data\":{{\"SMTP_PASSWORD\":\"{s}\",\"SMTP_HOST\":\"smtp.acme.io\"}}}}}}"),
    P("h38-cloudtrail-ssm-put", "aws", human_password, "{{\"eventName\":\"PutParameter\",\"requestParameters\":{{\"name\":\"/prod/db/password\",\"type\":\"String\",\"value\":\"{s}\"}}}}"),
    P("h38-okta-system-log", "okta", human_password, "{{\"eventType\":\"user.account.update_password\",\"debugContext\":{{\"debugData\":{{\"requestUri\":\"/api/v1/users/00u1/lifecycle/reset_password?tempPassword={s}\"}}}}}}"),
    P("h38-terraform-tfvars-log", "terraform", human_password, "{t} terraform apply -var 'db_password={s}' -auto-approve"),
    P("h38-ansible-extra-vars", "ansible", human_password, "$ ansible-playbook site.yml -e \"mysql_root_password={s} env=prod\""),
]

NEGATIVE38 = [
    P("h38-neg-cloudtrail-redacted", "aws", None, "{{\"eventName\":\"CreateDBInstance\",\"requestParameters\":{{\"masterUsername\":\"admin\",\"masterUserPassword\":\"HIDDEN_DUE_TO_SECURITY_REASONS\"}}}}"),
    P("h38-neg-k8s-audit-metadata", "kubernetes", None, "{{\"level\":\"Metadata\",\"verb\":\"get\",\"objectRef\":{{\"resource\":\"secrets\",\"name\":\"db\"}}}}"),
    P("h38-neg-vault-audit-hmac", "vault", None, "{{\"type\":\"request\",\"request\":{{\"path\":\"secret/data/db\",\"data\":{{\"password\":\"hmac-sha256:9f2c6a{sha32}\"}}}}}}"),
    P("h38-neg-ssm-securestring", "aws", None, "{{\"eventName\":\"PutParameter\",\"requestParameters\":{{\"name\":\"/prod/db/password\",\"type\":\"SecureString\",\"overwrite\":true}}}}"),
    P("h38-neg-azure-securestring-ref", "azure", None, "{{\"parameters\":{{\"adminPassword\":{{\"reference\":{{\"keyVault\":{{\"id\":\"/subscriptions/{uuid}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv\"}},\"secretName\":\"admin\"}}}}}}}}"),
    P("h38-neg-helm-set-file", "helm", None, "$ helm upgrade --install app ./chart --set-file postgresql.auth.password=./secrets/db.txt"),
    P("h38-neg-pulumi-secret-flag", "pulumi", None, "$ pulumi config set --secret dbPassword"),
    P("h38-neg-gha-masked", "github", None, "Run ./deploy.sh\n  env:\n    DEPLOY_API_TOKEN: ***\n    CI: true"),
]


# Written in session 10 after holdout38 was scored once and before its false findings were
# read or any detector changed again: credentials in the configuration, commands and logs of
# data and machine-learning platforms (dbt, Spark, Databricks, Trino, Neo4j, MLflow, Weights &
# Biases, Superset, Metabase, Flink, DuckDB, Schema Registry, kcat, Tableau, Prefect, Looker,
# Dagster), as their jobs and notebooks write them into audit trails.
def databricks_token(rng):
    return "dapi" + rs(rng, 32, HEX) + rng.choice(["", "-2", "-3"])


def prefect_key(rng):
    return "pnu_" + rs(rng, 36)


def hex40(rng):
    return rs(rng, 40, HEX)


HOLDOUT39 = [
    P("h39-dbt-profiles", "dbt", human_password, "warehouse:\n  target: prod\n  outputs:\n    prod:\n      type: postgres\n      host: {h}\n      user: dbt\n      pass: {s}\n      dbname: analytics"),
    P("h39-spark-s3a-conf", "spark", aws_secret, "{t} INFO SparkContext: spark.hadoop.fs.s3a.access.key={kid} spark.hadoop.fs.s3a.secret.key={s}"),
    P("h39-spark-submit-conf", "spark", human_password, "$ spark-submit --conf spark.jdbc.password={s} --class etl.Main etl.jar"),
    P("h39-databricks-cli", "databricks", databricks_token, "[DEFAULT]\nhost = https://adb-4411.7.azuredatabricks.net\ntoken = {s}"),
    P("h39-databricks-header", "databricks", databricks_token, "{t} POST /api/2.1/jobs/run-now HTTP/1.1 Authorization: Bearer {s}"),
    P("h39-trino-cli", "trino", human_password, "$ TRINO_PASSWORD='{s}' trino --server https://trino.{h}:443 --user analyst --password"),
    P("h39-neo4j-auth-env", "neo4j", human_password, "docker run -e NEO4J_AUTH=neo4j/{s} -p 7474:7474 neo4j:5"),
    P("h39-mlflow-env", "mlflow", human_password, "{t} export MLFLOW_TRACKING_USERNAME=ci MLFLOW_TRACKING_PASSWORD={s}"),
    P("h39-wandb-login", "wandb", hex40, "$ wandb login {s}"),
    P("h39-wandb-netrc", "wandb", hex40, "machine api.wandb.ai\n  login user\n  password {s}"),
    P("h39-superset-config", "superset", human_password, "SQLALCHEMY_DATABASE_URI = 'postgresql+psycopg2://superset:{s}@{h}:5432/superset'"),
    P("h39-metabase-env", "metabase", human_password, "MB_DB_TYPE=postgres MB_DB_USER=metabase MB_DB_PASS={s} MB_DB_HOST={h}"),
    P("h39-flink-sql-with", "flink", human_password, "CREATE TABLE orders (id BIGINT) WITH ('connector' = 'jdbc', 'url' = 'jdbc:mysql://{h}:3306/shop', 'username' = 'flink', 'password' = '{s}');"),
    P("h39-duckdb-create-secret", "duckdb", aws_secret, "CREATE SECRET s3_prod (TYPE S3, KEY_ID '{kid}', SECRET '{s}', REGION 'eu-west-1');"),
    P("h39-schema-registry-basic", "kafka", human_password, "schema.registry.url=https://sr.{h}\nbasic.auth.credentials.source=USER_INFO\nbasic.auth.user.info=svc-etl:{s}"),
    P("h39-kcat-sasl", "kafka", human_password, "$ kcat -b broker.{h}:9093 -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN -X sasl.username=etl -X sasl.password={s} -t orders -C"),
    P("h39-tableau-pat", "tableau", b64_secret, "$ tabcmd login -s https://tableau.{h} --token-name ci-bot --token-value {s}"),
    P("h39-prefect-profile", "prefect", prefect_key, "[profiles.prod]\nPREFECT_API_URL = \"https://api.prefect.cloud/api/accounts/{uuid}/workspaces/{uuid2}\"\nPREFECT_API_KEY = \"{s}\""),
    P("h39-looker-ini", "looker", generic_token, "[Looker]\nbase_url=https://acme.cloud.looker.com:19999\nclient_id=Kx3{an24}\nclient_secret={s}"),
    P("h39-dagster-run-config", "dagster", human_password, "resources:\n  warehouse:\n    config:\n      user: dagster\n      password: {s}\n      host: {h}"),
]

NEGATIVE39 = [
    P("h39-neg-dbt-env-var", "dbt", None, "      pass: \"{{{{ env_var('DBT_PASSWORD') }}}}\"\n      dbname: analytics"),
    P("h39-neg-databricks-secret-ref", "databricks", None, "spark.hadoop.fs.s3a.secret.key {{{{secrets/prod-scope/s3-secret}}}}"),
    P("h39-neg-airflow-masked", "airflow", None, "{t} INFO - Using connection ID 'warehouse' for task execution: postgresql://etl:***@{h}:5432/analytics"),
    P("h39-neg-mlflow-run-id", "mlflow", None, "{t} INFO mlflow.tracking: Run {sha32} logged metric loss=0.231 at step 400"),
    P("h39-neg-wandb-run-path", "wandb", None, "wandb: 🚀 View run at https://wandb.ai/acme/churn/runs/{last4}x9q2"),
    P("h39-neg-superset-secret-ref", "superset", None, "SQLALCHEMY_DATABASE_URI = os.environ[\"SUPERSET_DB_URI\"]"),
    P("h39-neg-flink-placeholder", "flink", None, "'username' = 'flink', 'password' = '${{FLINK_JDBC_PASSWORD}}'"),
    P("h39-neg-duckdb-credential-chain", "duckdb", None, "CREATE SECRET s3_prod (TYPE S3, PROVIDER credential_chain, REGION 'eu-west-1');"),
]


# Written in session 10 after holdout39 was scored once and before its misses were read or
# any detector changed again: credentials in home-lab, IoT and self-hosted service logs and
# configs (Home Assistant, ESPHome, Tasmota, Zigbee2MQTT, Node-RED, Mosquitto, OpenWrt uci,
# NetworkManager, wpa_cli, Raspberry Pi imager, balena, Particle, LoRaWAN, Nextcloud occ,
# Syncthing, Transmission, qBittorrent, Pi-hole, UniFi, OctoPrint, Frigate).
def lorawan_key(rng):
    return rs(rng, 32, "0123456789ABCDEF")


def esphome_api_key(rng):
    return base64.b64encode(bytes(rng.randrange(256) for _ in range(32))).decode()


HOLDOUT40 = [
    P("h40-ha-secrets-yaml", "homeassistant", human_password, "# secrets.yaml\nwifi_ssid: \"AcmeHome\"\nwifi_password: \"{s}\"\nlatitude: 52.37"),
    P("h40-esphome-ota", "esphome", human_password, "ota:\n  - platform: esphome\n    password: \"{s}\"\nlogger:"),
    P("h40-esphome-api-key", "esphome", esphome_api_key, "api:\n  encryption:\n    key: \"{s}\""),
    P("h40-tasmota-backlog", "tasmota", human_password, "{t} CMD: Backlog SSID1 AcmeHome; Password1 {s}; MqttHost 10.0.0.5"),
    P("h40-tasmota-mqtt", "tasmota", human_password, "{t} CMD: MqttPassword {s}"),
    P("h40-z2m-network-key", "zigbee2mqtt", lorawan_key, "advanced:\n  network_key: '{s}'\n  pan_id: 6754"),
    P("h40-mosquitto-passwd", "mosquitto", human_password, "$ mosquitto_passwd -b /etc/mosquitto/passwd sensor01 {s}"),
    P("h40-mosquitto-pub", "mosquitto", human_password, "$ mosquitto_pub -h broker.lan -u sensor01 -P '{s}' -t home/temp -m 21.5"),
    P("h40-uci-wifi-key", "openwrt", human_password, "root@OpenWrt:~# uci set wireless.@wifi-iface[0].key='{s}' && uci commit wireless"),
    P("h40-nmcli-connect", "networkmanager", human_password, "$ nmcli dev wifi connect AcmeHome password '{s}' ifname wlan0"),
    P("h40-wpa-cli-psk", "wpa", human_password, "> set_network 0 psk \"{s}\"\nOK"),
    P("h40-balena-env", "balena", generic_token, "$ balena env add API_TOKEN {s} --fleet acme/sensors"),
    P("h40-particle-token", "particle", hex40, "{t} particle: using access token {s} for account ops@acme.io"),
    P("h40-lorawan-appkey", "lorawan", lorawan_key, "{t} ttn-lw-cli end-devices create app1 dev42 --dev-eui 70B3D57ED0001234 --app-key {s}"),
    P("h40-nextcloud-occ", "nextcloud", human_password, "$ sudo -u www-data php occ maintenance:install --admin-user admin --admin-pass '{s}'"),
    P("h40-syncthing-gui", "syncthing", human_password, "<gui enabled=\"true\" tls=\"true\">\n    <user>admin</user>\n    <password>{s}</password>\n</gui>"),
    P("h40-transmission-rpc", "transmission", human_password, "$ transmission-remote 192.168.1.10:9091 --auth admin:{s} -l"),
    P("h40-qbittorrent-webui", "qbittorrent", human_password, "{t} curl -i --data 'username=admin&password={s}' http://nas.lan:8080/api/v2/auth/login"),
    P("h40-pihole-setpassword", "pihole", human_password, "$ pihole -a -p '{s}'"),
    P("h40-frigate-mqtt", "frigate", human_password, "mqtt:\n  host: 192.168.1.20\n  user: frigate\n  password: {s}"),
]

NEGATIVE40 = [
    P("h40-neg-ha-secret-ref", "homeassistant", None, "wifi:\n  ssid: !secret wifi_ssid\n  password: !secret wifi_password"),
    P("h40-neg-esphome-substitution", "esphome", None, "ota:\n  - platform: esphome\n    password: ${{ota_password}}"),
    P("h40-neg-tasmota-masked", "tasmota", None, "{t} MQT: MqttPassword ****"),
    P("h40-neg-pi-userconf-hash", "raspberrypi", None, "pi:$6$rounds=656000$AcmeSalt$JmQ1d0c3Vw7b9x2kP4rTq8Nf6Hs5Lz1Ye3Uo0Wi9Rb7Ka2Mc4Dg8Fj6Hl5Nn3Pp1Qs7Tu9Vw0Xy2Za"),
    P("h40-neg-lorawan-deveui", "lorawan", None, "{t} ttn-lw-cli end-devices get app1 dev42 --dev-eui 70B3D57ED0001234 --join-eui 0000000000000000"),
    P("h40-neg-syncthing-device-id", "syncthing", None, "{t} INFO: My ID: MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD"),
    P("h40-neg-nmcli-ask", "networkmanager", None, "$ nmcli --ask dev wifi connect AcmeHome ifname wlan0"),
    P("h40-neg-particle-device-id", "particle", None, "{t} particle: device e00fce68{sha16} came online"),
]


# Negatives: what an audit log is full of and must stay readable.
def sha(rng, n=64):
    return rs(rng, n, HEX)


def uuid(rng):
    h = rs(rng, 32, HEX)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


NEGATIVE = [
    P("neg-aws-placeholder", "docs", None, "export AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX"),
    P("neg-aws-doc-example", "docs", None, "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    P("neg-stripe-placeholder", "docs", None, "Stripe.api_key = 'sk_test_YOUR_SECRET_KEY'"),
    P("neg-env-ref", "config", None, "password: ${{DB_PASSWORD}}\ntoken: ${{GITHUB_TOKEN}}"),
    P("neg-helm-template", "config", None, "  password: {{{{ .Values.db.password | quote }}}}"),
    P("neg-angle", "docs", None, "curl -H 'Authorization: Bearer <your-token>' https://api.{h}/v1"),
    P("neg-masked", "app", None, "login ok user={u} password=******** token=****"),
    P("neg-masked-partial", "app", None, "using key sk-****{last4} for org acme"),
    P("neg-password-prose", "app", None, "{t} INFO user {u} password reset requested; password: changed by admin"),
    P("neg-token-expired", "app", None, "{t} WARN token expired for session {uuid}; token_type=Bearer expires_in=3600"),
    P("neg-uuid-ids", "cloudtrail", None, '{{"eventID":"{uuid}","requestID":"{uuid2}","eventName":"GetSecretValue","requestParameters":{{"secretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"}}}}'),
    P("neg-git-sha", "git", None, "commit {sha40}\nMerge: {sha7} {sha7b}\nAuthor: {u} <{u}@acme.io>"),
    P("neg-image-digest", "kubernetes", None, "Pulled image \"ghcr.io/acme/api@sha256:{sha64}\" in 2.1s"),
    P("neg-trace", "app", None, "traceparent: 00-{sha32}-{sha16}-01 span_id={sha16} trace_id={sha32}"),
    P("neg-k8s-secretref", "kubernetes", None, "env:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: db\n      key: password"),
    P("neg-public-key", "config", None, "authorized_keys: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{b64} {u}@laptop"),
    P("neg-cert", "config", None, "-----BEGIN CERTIFICATE-----\nMIIC{b64}\n-----END CERTIFICATE-----"),
    P("neg-publishable", "app", None, "stripe.js init with publishable key pk_live_{an24}"),
    P("neg-etag", "http", None, "< ETag: \"{sha32}\"\n< x-amz-request-id: {up16}"),
    P("neg-password-policy", "config", None, "password_min_length=12\npassword_require_symbols=true\ntoken_ttl=3600"),
    P("neg-vault-path", "app", None, "reading secret from vault:secret/data/prod/db#password (lease {uuid})"),
    P("neg-sha-checksum", "ci", None, "sha256sum: {sha64}  app-linux-amd64.tar.gz"),
    P("neg-mfa-event", "github", None, '{{"action":"two_factor_authentication.enabled","actor":"{u}","user_agent":"Mozilla/5.0","created_at":{epoch}}}'),
    P("neg-sudo", "sudo", None, "Dec  1 10:22:31 {h} sudo:   {u} : TTY=pts/1 ; PWD=/home/{u} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx"),
    P("neg-pg-auth-fail", "postgresql", None, "{t} UTC [5512] FATAL:  password authentication failed for user \"app\""),
    P("neg-mysql-denied", "mysql", None, "{t} 13 Connect\tAccess denied for user 'root'@'{ip}' (using password: YES)"),
    P("neg-nginx-login", "nginx", None, '{ip} - - [{t}] "POST /login HTTP/1.1" 302 0 "-" "Mozilla/5.0"'),
    P("neg-base64-blob", "app", None, "attachment data=iVBORw0KGgoAAAANSUhEUgAA{b64}"),
    P("neg-session-uuid", "app", None, "{t} user {u} started session {uuid} from {ip}"),
    P("neg-breakglass", "app", None, '{{"actor":"{u}","action":"breakglass.open","breakglass_session":"bg-{sha16}","reason":"INC-4521"}}'),
    P("neg-idempotency", "http", None, "Idempotency-Key: {uuid}\nX-Request-Id: {sha32}"),
    P("neg-java-stack", "java", None, "java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"password\" is null\n\tat com.acme.auth.Login.check(Login.java:42)"),
]


def render(tpl, rng, secret):
    ctx = {
        "s": secret,
        "u": rng.choice(["alice", "bob", "carol", "deploy", "svc-ci", "mallory"]),
        "h": rng.choice(["db.internal", "acme.io", "10.0.3.7", "prod-db-1.eu.acme.net"]),
        "ip": f"{rng.randint(10, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "t": f"2026-11-{rng.randint(1, 30):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        "kid": aws_key_id(rng),
        "acct": rs(rng, 32, HEX),
        "uuid": uuid(rng), "uuid2": uuid(rng),
        "sha40": sha(rng, 40), "sha7": sha(rng, 7), "sha7b": sha(rng, 7), "sha64": sha(rng), "sha32": sha(rng, 32), "sha16": sha(rng, 16),
        "b64": rs(rng, 60, B64), "an24": rs(rng, 24), "up16": rs(rng, 16, UP), "last4": rs(rng, 4, LOW),
        "epoch": rng.randint(1.6e12, 1.8e12),
    }
    return tpl["fmt"].format(**ctx)


def wrapped(tpl, secret):
    """The secret as it appears in the text (encoded the way the template's software does)."""
    w = tpl["wrap"]
    if w == "percent":
        return urllib.parse.quote(secret, safe="")
    if w == "base64":
        return base64.b64encode(secret.encode()).decode()
    if w == "json-escape":
        return json.dumps(secret)[1:-1]
    return secret


def split_of(name):
    # A template named `h<N>-…` belongs to holdoutN; the rest are split by a hash of the name.
    m = re.match(r"h([0-9]+)-", name)
    if m:
        return f"holdout{m.group(1)}"
    return "holdout" if hashlib.sha256(name.encode()).digest()[0] % 3 == 0 else "tune"


def cases(seed, per_template):
    # Each generation of templates draws from its own generator, so that adding one leaves
    # the cases of the earlier ones byte for byte as they were scored.
    return (generation(random.Random(seed), per_template, POSITIVE + HOLDOUT2 + HOLDOUT3 + HOLDOUT4,
                       NEGATIVE + NEGATIVE2 + NEGATIVE3 + NEGATIVE4)
            + generation(random.Random(seed + 5), per_template, HOLDOUT5, NEGATIVE5)
            + generation(random.Random(seed + 6), per_template, HOLDOUT6, NEGATIVE6)
            + generation(random.Random(seed + 7), per_template, HOLDOUT7, NEGATIVE7)
            + generation(random.Random(seed + 8), per_template, HOLDOUT8, NEGATIVE8)
            + generation(random.Random(seed + 9), per_template, HOLDOUT9, NEGATIVE9)
            + generation(random.Random(seed + 10), per_template, HOLDOUT10, NEGATIVE10)
            + generation(random.Random(seed + 11), per_template, HOLDOUT11, NEGATIVE11)
            + generation(random.Random(seed + 12), per_template, HOLDOUT12, NEGATIVE12)
            + generation(random.Random(seed + 13), per_template, HOLDOUT13, NEGATIVE13)
            + generation(random.Random(seed + 14), per_template, HOLDOUT14, NEGATIVE14)
            + generation(random.Random(seed + 15), per_template, HOLDOUT15, NEGATIVE15)
            + generation(random.Random(seed + 16), per_template, HOLDOUT16, NEGATIVE16)
            + generation(random.Random(seed + 17), per_template, HOLDOUT17, NEGATIVE17)
            + generation(random.Random(seed + 18), per_template, HOLDOUT18, NEGATIVE18)
            + generation(random.Random(seed + 19), per_template, HOLDOUT19, NEGATIVE19)
            + generation(random.Random(seed + 20), per_template, HOLDOUT20, NEGATIVE20)
            + generation(random.Random(seed + 21), per_template, HOLDOUT21, NEGATIVE21)
            + generation(random.Random(seed + 22), per_template, HOLDOUT22, NEGATIVE22)
            + generation(random.Random(seed + 23), per_template, HOLDOUT23, NEGATIVE23)
            + generation(random.Random(seed + 24), per_template, HOLDOUT24, NEGATIVE24)
            + generation(random.Random(seed + 25), per_template, HOLDOUT25, NEGATIVE25)
            + generation(random.Random(seed + 26), per_template, HOLDOUT26, NEGATIVE26)
            + generation(random.Random(seed + 27), per_template, HOLDOUT27, NEGATIVE27)
            + generation(random.Random(seed + 28), per_template, HOLDOUT28, NEGATIVE28)
            + generation(random.Random(seed + 29), per_template, HOLDOUT29, NEGATIVE29)
            + generation(random.Random(seed + 30), per_template, HOLDOUT30, NEGATIVE30)
            + generation(random.Random(seed + 31), per_template, HOLDOUT31, NEGATIVE31)
            + generation(random.Random(seed + 32), per_template, HOLDOUT32, NEGATIVE32)
            + generation(random.Random(seed + 33), per_template, HOLDOUT33, NEGATIVE33)
            + generation(random.Random(seed + 34), per_template, HOLDOUT34, NEGATIVE34)
            + generation(random.Random(seed + 35), per_template, HOLDOUT35, NEGATIVE35)
            + generation(random.Random(seed + 36), per_template, HOLDOUT36, NEGATIVE36)
            + generation(random.Random(seed + 37), per_template, HOLDOUT37, NEGATIVE37)
            + generation(random.Random(seed + 38), per_template, HOLDOUT38, NEGATIVE38)
            + generation(random.Random(seed + 39), per_template, HOLDOUT39, NEGATIVE39)
            + generation(random.Random(seed + 40), per_template, HOLDOUT40, NEGATIVE40))


def generation(rng, per_template, positives, negatives):
    out = []
    for tpl in positives:
        for i in range(per_template):
            secret = tpl["maker"](rng)
            shown = wrapped(tpl, secret)
            text = render(tpl, rng, shown)
            at = text.find(shown)
            assert at >= 0, tpl["name"]
            start = len(text[:at].encode())
            spans = [[start, start + len(shown.encode())]]
            # An AWS access key ID beside its secret is half of the credential: labelled too
            # (ASIA and quoted IDs since holdout6; no earlier case changed).
            # Single-quoted IDs since holdout39 (DuckDB's KEY_ID '…'); no earlier case has one.
            words = text.replace("=", " ").replace('"', " ").replace("'", " ").replace(",", " ").split()
            kid = next((w for w in words if w.startswith(("AKIA", "ASIA")) and len(w) == 20), None)
            if kid:
                k = len(text[:text.find(kid)].encode())
                spans.append([k, k + 20])
            out.append({"id": f"realistic/{tpl['name']}/{i}", "source": "realistic", "rule": tpl["name"],
                        "genre": tpl["genre"], "label": "tp", "text": text, "secret": shown,
                        "secret_spans": sorted(spans), "split": split_of(tpl["name"])})
    for tpl in negatives:
        for i in range(per_template):
            text = render(tpl, rng, "")
            out.append({"id": f"realistic/{tpl['name']}/{i}", "source": "realistic", "rule": tpl["name"],
                        "genre": tpl["genre"], "label": "fp", "text": text, "split": split_of(tpl["name"])})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--per-template", type=int, default=12)
    ap.add_argument("--split", default="all", help="tune, holdout, holdoutN (a template prefix hN-) or all")
    a = ap.parse_args()
    every = cases(a.seed, a.per_template)
    known = {c["split"] for c in every}
    if a.split != "all" and a.split not in known:
        ap.error(f"unknown split {a.split!r}; the splits are {', '.join(sorted(known))} and all")
    for c in every:
        if a.split in ("all", c["split"]):
            print(json.dumps(c, ensure_ascii=False))


if __name__ == "__main__":
    main()
