#!/usr/bin/env python3
"""Writes corpus.jsonl: realistic log lines with planted synthetic secrets of every rule type,
and as many hard negatives. Deterministic (seeded); every secret is random, never real.

Each line: {"text": str, "secrets": [str], "rule": str | null, "genre": str}.
A positive line's secrets must each be fully redacted; a negative line must produce nothing.
"""
import base64, json, random, string, uuid, hashlib, zlib, sys

R = random.Random(20261122)
AN = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

def s(n, alphabet=AN): return "".join(R.choice(alphabet) for _ in range(n))
def b62crc(data):
    n = zlib.crc32(data.encode()) & 0xffffffff
    out = ""
    for _ in range(6):
        out = B62[n % 62] + out; n //= 62
    return out
def gh(prefix): r = s(30); return f"{prefix}_{r}{b62crc(r)}"
def b64url(obj): return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
def jwt(): return f"{b64url({'alg':'HS256','typ':'JWT'})}.{b64url({'sub':s(8),'iat':R.randint(1e9,2e9)})}.{s(43, AN+'-_')}"
def pem(kind): return f"-----BEGIN {kind}PRIVATE KEY-----\n" + "\n".join(s(64, AN+'+/') for _ in range(3)) + f"\n-----END {kind}PRIVATE KEY-----"
def password(): return R.choice(["Winter", "Summer", "Tr0ub4dor", "hunter", "Passw0rd", "Zebra"]) + s(R.randint(3, 8), AN + "!#%^*")

# rule id -> (secret generator, templates with {s}); the planted secret is what must vanish.
G = {
 "aws-access-key-id": (lambda: "AKIA" + s(16, string.ascii_uppercase + "234567"), ["aws configure set aws_access_key_id {s}", '{{"accessKeyId":"{s}","region":"eu-west-1"}}']),
 "aws-secret-access-key": (lambda: s(40, AN + "/+"), ["aws_secret_access_key = {s}", "export AWS_SECRET_ACCESS_KEY={s}"]),
 "aws-session-token": (lambda: "FwoGZXIvYXdzE" + s(140, AN + "/+"), ["AWS_SESSION_TOKEN={s}"]),
 "gcp-api-key": (lambda: "AIza" + s(35, AN + "_-"), ['GET /maps/api/geocode/json?address=x&key={s} HTTP/1.1" 200']),
 "gcp-oauth-client-secret": (lambda: "GOCSPX-" + s(28, AN + "_-"), ["oauth client created secret={s} project=acme"]),
 "gcp-oauth-access-token": (lambda: "ya29." + s(60, AN + "_-"), ["gcloud auth print-access-token -> {s}"]),
 "azure-storage-account-key": (lambda: s(86, AN + "+/") + "==", ["DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net"]),
 "azure-sas-token": (lambda: s(43, AN) + "%3D", ["GET https://acme.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-01T00:00:00Z&sig={s} 200"]),
 "azure-ad-client-secret": (lambda: s(3) + str(R.randint(0, 9)) + "Q~" + s(34, AN + "_~.-"), ["az ad app credential reset: password {s} created"]),
 "alibaba-access-key-id": (lambda: "LTAI" + s(20), ["aliyun configure --access-key-id {s} --region cn-hangzhou"]),
 "digitalocean-token": (lambda: "dop_v1_" + s(64, HEX), ["doctl auth init -t {s}"]),
 "heroku-api-key": (lambda: "HRKU-" + s(60, AN + "_-"), ["heroku auth:token => {s}"]),
 "databricks-token": (lambda: "dapi" + s(32, HEX), ["databricks configure --host https://acme.cloud.databricks.com --token {s}"]),
 "github-token": (lambda: gh(R.choice(["ghp", "gho", "ghs"])), ["git clone https://x-access-token:{s}@github.com/acme/app.git", "GITHUB_TOKEN={s} make release"]),
 "github-fine-grained-token": (lambda: "github_pat_11" + s(20) + "_" + s(59), ["gh auth login --with-token <<< {s}"]),
 "gitlab-token": (lambda: "glpat-" + s(20, AN + "_-"), ["curl --header \"PRIVATE-TOKEN: {s}\" https://gitlab.acme.io/api/v4/projects"]),
 "gitlab-runner-token": (lambda: "glrt-" + s(20, AN + "_-"), ["gitlab-runner register --token {s}"]),
 "gitlab-deploy-token": (lambda: "gldt-" + s(20, AN + "_-"), ["deploy token issued: {s}"]),
 "npm-token": (lambda: (lambda r: f"npm_{r}{b62crc(r)}")(s(30)), ["//registry.npmjs.org/:_authToken={s}"]),
 "pypi-token": (lambda: "pypi-AgEIcHlwaS5vcmc" + s(70, AN + "_-"), ["twine upload -u __token__ -p {s} dist/*"]),
 "rubygems-api-key": (lambda: "rubygems_" + s(48, HEX), [":rubygems_api_key: {s}"]),
 "nuget-api-key": (lambda: "oy2" + s(43, string.ascii_lowercase + string.digits), ["dotnet nuget push pkg.nupkg --api-key {s}"]),
 "dockerhub-token": (lambda: "dckr_pat_" + s(27, AN + "_-"), ["echo {s} | docker login -u ci --password-stdin"]),
 "atlassian-api-token": (lambda: "ATATT3" + s(180, AN + "_-="), ["jira api call user=ops@acme.io token {s}"]),
 "slack-token": (lambda: "xoxb-" + s(12, string.digits) + "-" + s(13, string.digits) + "-" + s(24), ["slack.post chat.postMessage token={s} channel=#ops"]),
 "slack-webhook": (lambda: "https://hooks.slack.com/services/T" + s(8, string.ascii_uppercase + string.digits) + "/B" + s(8, string.ascii_uppercase + string.digits) + "/" + s(24), ["alert sent to {s} status=200"]),
 "discord-webhook": (lambda: "https://discord.com/api/webhooks/" + s(18, string.digits) + "/" + s(68, AN + "_-"), ["notify webhook={s}"]),
 "teams-webhook": (lambda: f"https://acme.webhook.office.com/webhookb2/{uuid.UUID(int=R.getrandbits(128))}@{uuid.UUID(int=R.getrandbits(128))}/IncomingWebhook/{s(32, HEX)}/{uuid.UUID(int=R.getrandbits(128))}", ["teams notification via {s}"]),
 "telegram-bot-token": (lambda: s(9, string.digits) + ":AA" + s(33, AN + "_-"), ["POST https://api.telegram.org/bot{s}/sendMessage 200"]),
 "discord-bot-token": (lambda: "M" + s(25, AN) + "." + s(6, AN) + "." + s(27, AN), ["DISCORD_BOT_TOKEN={s}"]),
 "stripe-secret-key": (lambda: R.choice(["sk_live_", "rk_live_"]) + s(48), ["stripe.api_key = \"{s}\"", "charge failed key={s} code=card_declined"]),
 "stripe-webhook-secret": (lambda: "whsec_" + s(32), ["endpoint secret {s} configured"]),
 "square-token": (lambda: "EAAA" + s(60, AN + "_-"), ["square client init access_token {s}"]),
 "shopify-token": (lambda: "shpat_" + s(32, HEX), ["X-Shopify-Access-Token: {s}"]),
 "twilio-api-key": (lambda: "SK" + s(32, HEX), ["twilio api:core:keys:create -> sid {s}"]),
 "twilio-auth-token": (lambda: s(32, HEX), ["TWILIO_AUTH_TOKEN={s}"]),
 "sendgrid-api-key": (lambda: "SG." + s(22, AN + "_-") + "." + s(43, AN + "_-"), ["sendgrid mail send apikey {s}"]),
 "mailgun-api-key": (lambda: "key-" + s(32, HEX), ["curl -s --user 'api:{s}' https://api.mailgun.net/v3/acme/messages"]),
 "mailchimp-api-key": (lambda: s(32, HEX) + "-us" + str(R.randint(1, 20)), ["mailchimp client apikey {s}"]),
 "openai-api-key": (lambda: "sk-proj-" + s(30, AN + "_-") + "T3BlbkFJ" + s(30, AN + "_-"), ["llm call failed api_key_prefix={s}"]),
 "anthropic-api-key": (lambda: "sk-ant-api03-" + s(93, AN + "_-") + "AA", ["x-api-key: {s}"]),
 "huggingface-token": (lambda: "hf_" + s(34, string.ascii_letters), ["huggingface-cli login --token {s}"]),
 "hashicorp-vault-token": (lambda: "hvs." + s(90, AN + "_-"), ["vault write -address=https://vault:8200 -header X-Vault-Token={s} secret/x"]),
 "terraform-cloud-token": (lambda: s(14) + ".atlasv1." + s(67, AN + "_-"), ['credentials "app.terraform.io" {{ token = "{s}" }}']),
 "doppler-token": (lambda: "dp.pt." + s(43), ["DOPPLER_TOKEN={s} doppler run -- app"]),
 "pulumi-token": (lambda: "pul-" + s(40, HEX), ["PULUMI_ACCESS_TOKEN={s} pulumi up"]),
 "datadog-api-key": (lambda: s(32, HEX), ["DD_API_KEY={s} datadog-agent start"]),
 "newrelic-key": (lambda: "NRAK-" + s(27, string.ascii_uppercase + string.digits), ["newrelic profile add --apiKey {s}"]),
 "sentry-token": (lambda: "sntryu_" + s(64, HEX), ["sentry-cli --auth-token {s} releases new 1.2.3"]),
 "grafana-token": (lambda: "glsa_" + s(32) + "_" + s(8, HEX), ["grafana api key rotated new={s}"]),
 "linear-api-key": (lambda: "lin_api_" + s(40), ["linear sync key {s}"]),
 "postman-api-key": (lambda: "PMAK-" + s(24, HEX) + "-" + s(34, HEX), ["postman collection run --api-key {s}"]),
 "figma-token": (lambda: "figd_" + s(43, AN + "_-"), ["X-Figma-Token: {s}"]),
 "planetscale-token": (lambda: "pscale_pw_" + s(43, AN + "_-"), ["mysql connect planetscale password {s} ok"]),
 "supabase-token": (lambda: "sbp_" + s(40, HEX), ["supabase login --token {s}"]),
 "mapbox-secret-token": (lambda: "sk.eyJ" + s(60, AN + "_-") + "." + s(22, AN + "_-"), ["mapbox upload token {s}"]),
 "facebook-access-token": (lambda: "EAAB" + s(120), ["graph api call access_token={s}&fields=id"]),
 "twitter-bearer-token": (lambda: "AAAAAAAAAAAAAAAAAAAAA" + s(80, AN + "%"), ["twitter client bearer {s}"]),
 "jwt": (jwt, ["session restored from cookie jwt {s} user=42"]),
 "private-key": (lambda: pem(R.choice(["RSA ", "EC ", ""])), ["tls.key contents: {s}"]),
 "openssh-private-key": (lambda: pem("OPENSSH "), ["cat ~/.ssh/id_ed25519\n{s}"]),
 "pgp-private-key": (lambda: "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + s(64, AN + "+/") + "\n-----END PGP PRIVATE KEY BLOCK-----", ["gpg --export-secret-keys -a ops\n{s}"]),
 "private-key-unterminated": (lambda: "-----BEGIN PRIVATE KEY-----\\n" + s(120, AN + "+/"), ["ERROR tls: failed to parse key: {s}"]),
 "putty-private-key": (lambda: "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ops\nPublic-Lines: 2\n" + s(64) + "\nPrivate-Lines: 1\n" + s(44) + "\nPrivate-MAC: " + s(64, HEX), ["{s}"]),
 "age-secret-key": (lambda: "AGE-SECRET-KEY-1" + s(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"), ["# created: 2026-01-01\n{s}"]),
 "url-credentials": (password, ["connecting to postgres://app:{s}@db.internal:5432/prod", "MONGO_URL=mongodb+srv://admin:{s}@cluster0.acme.mongodb.net/db"]),
 "authorization-basic": (lambda: base64.b64encode(f"admin:{password()}".encode()).decode(), ["10.0.0.9 - - \"GET /admin\" hdr Authorization: Basic {s}"]),
 "authorization-bearer": (lambda: s(40, AN + "-._"), ["curl -H 'Authorization: Bearer {s}' https://api.acme.io/v1/users"]),
 "api-key-header": (lambda: s(32, AN), ["upstream request headers X-Api-Key: {s} path=/v2/orders"]),
 "session-cookie": (lambda: s(32, HEX.upper()), ["Cookie: theme=dark; lang=en; JSESSIONID={s}", "GET /app;jsessionid={s} HTTP/1.1"]),
 "connection-string-password": (password, ["Server=sql01.acme.local;Database=Sales;User Id=svc_sales;Password={s};Encrypt=true"]),
 "cli-secret-flag": (lambda: s(24, AN), ["$ deploy-tool --api-key {s} --env prod", "$ psql --password={s} -h db"]),
 "mysql-password-flag": (password, ["$ mysql -u root -p{s} -h 10.0.3.4 sales"]),
 "sshpass-password": (password, ["$ sshpass -p '{s}' ssh root@10.0.0.12 uptime"]),
 "curl-user-password": (password, ["$ curl -u deploy:{s} https://nexus.acme.io/repository/"]),
 "env-secret": (password, ["DB_PASSWORD={s}", "export REDIS_PASSWORD='{s}'"]),
 "password-assignment": (password, ["POST /login user=bob&password={s}&remember=1", "db:\n  host: db\n  password: {s}\n", '{{"username":"carol","password":"{s}"}}']),
 "secret-assignment": (lambda: s(28, AN), ["client_secret: {s}", "config loaded api_key={s} region=eu", "[auth]\nsigning_key = {s}"]),
}

GENRES = {
 "http": ['{ip} - - [22/Nov/2026:05:{m:02d}:11 +0000] "GET /api/v1/items/{n} HTTP/1.1" 200 {n2} "-" "Mozilla/5.0"'],
 "sql": ["LOG:  duration: 0.{n} ms  statement: SELECT id, email FROM users WHERE id = {n2}"],
 "shell": ["$ kubectl rollout status deploy/api-{n} -n prod"],
 "trace": ['  File "/srv/app/handlers.py", line {n}, in handle\n    raise ValueError("bad request {n2}")'],
 "env": ["HOME=/root\nPATH=/usr/local/bin:/usr/bin\nLANG=C.UTF-8"],
 "json": ['{{"level":"info","msg":"request done","status":200,"duration_ms":{n}}}'],
 "breakglass": ["[breakglass session bg-{n}] operator alice ran: systemctl restart api"],
}

def filler(genre):
    t = R.choice(GENRES[genre])
    return t.format(ip=f"10.0.{R.randint(0,255)}.{R.randint(1,254)}", m=R.randint(0, 59), n=R.randint(1, 9999), n2=R.randint(100, 99999))

def negatives():
    u = lambda: str(uuid.UUID(int=R.getrandbits(128)))
    sha1 = lambda: hashlib.sha1(s(20).encode()).hexdigest()
    sha256 = lambda: hashlib.sha256(s(20).encode()).hexdigest()
    blob = lambda: base64.b64encode(bytes(R.getrandbits(8) for _ in range(R.randint(60, 300)))).decode()
    return [
        ("uuid", lambda: f"request_id={u()} user_id={u()} status=200"),
        ("uuid", lambda: f'{{"trace_id":"{u()}","span_id":"{s(16, HEX)}","msg":"ok"}}'),
        ("sha", lambda: f"deployed commit {sha1()} to prod (parent {sha1()})"),
        ("sha", lambda: f"git log --oneline: {sha1()[:12]} fix: handle empty cart"),
        ("hash", lambda: f"image pulled: registry.acme.io/api@sha256:{sha256()}"),
        ("hash", lambda: f"verified artifact sha256={sha256()} md5={hashlib.md5(s(9).encode()).hexdigest()}"),
        ("base64", lambda: f'upload avatar data="{blob()}" size=2kb'),
        ("base64", lambda: f"attachment content: {blob()}"),
        ("trace", lambda: f"traceparent: 00-{s(32, HEX)}-{s(16, HEX)}-01"),
        ("trace", lambda: f"x-request-id: {s(32, HEX)} x-amzn-trace-id: Root=1-{s(8, HEX)}-{s(24, HEX)}"),
        ("prose", lambda: "user requested a password reset; token sent by email"),
        ("prose", lambda: f"rotated the api key for service-{R.randint(1,99)}; old key revoked"),
        ("metadata", lambda: f"token_type=Bearer expires_in={R.randint(60, 7200)} scope=read"),
        ("metadata", lambda: f'{{"next_page_token":"{s(24, AN)}","items":{R.randint(0,50)}}}'),
        ("metadata", lambda: f"password_min_length={R.randint(8, 16)} password_reset_required=false"),
        ("metadata", lambda: f"secret_name=db-creds secret_version={R.randint(1, 9)} key_id={u()}"),
        ("placeholder", lambda: "DB_PASSWORD=${DB_PASSWORD}"),
        ("placeholder", lambda: "postgres://app:****@db.internal/prod"),
        ("placeholder", lambda: "password: <redacted>"),
        ("k8s", lambda: f"pod api-{s(10, string.ascii_lowercase + string.digits)}-{s(5, string.ascii_lowercase + string.digits)} Running"),
        ("numbers", lambda: f"order {R.randint(10**15, 10**16)} total 42.50 EUR"),
        ("url", lambda: f"GET https://cdn.acme.io/assets/{s(20, AN)}.js?v={s(8, HEX)} 200"),
    ]

def main(out):
    lines = []
    for rule, (gen, templates) in G.items():
        for i in range(12):
            secret = gen()
            text = R.choice(templates).format(s=secret)
            genre = R.choice(list(GENRES))
            text = f"{filler(genre)}\n{text}" if R.random() < 0.5 else f"{text} {filler(genre)}"
            lines.append({"text": text, "secrets": [secret], "rule": rule, "genre": genre})
    negs = negatives()
    for i in range(len(lines)):
        category, gen = negs[i % len(negs)]
        genre = R.choice(list(GENRES))
        lines.append({"text": f"{gen()} {filler(genre)}", "secrets": [], "rule": None, "genre": category})
    R.shuffle(lines)
    with open(out, "w") as f:
        for l in lines:
            f.write(json.dumps(l) + "\n")
    print(f"{len(lines)} lines, {sum(1 for l in lines if l['secrets'])} with secrets, {len(G)} rule types", file=sys.stderr)

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "corpus.jsonl")
