#pragma once

#include <QNetworkRequest>
#include <QString>
#include <QUrl>

namespace fleet {

// How to reach a Fleet API server. The token is held here and nowhere else; it is never logged.
struct ClientConfig
{
    QUrl baseUrl; // e.g. http://127.0.0.1:8080
    QString token;
    QByteArray authScheme = "Bearer"; // "Authorization: <scheme> <token>" (the status page: "OAuth")
    QString caFile; // PEM bundle of extra trusted CAs (a private CA), empty for the system's
    bool insecure = false; // skip TLS verification: development only, flagged loudly by every UI
    int requestTimeoutMs = 15000; // transfer timeout of ordinary requests
    int snapshotTimeoutMs = 60000; // a 50,000-worker snapshot is ~20 MB
    qint64 maxResponseBytes = 256LL * 1024 * 1024; // answers beyond this are aborted
    int maxAttempts = 4; // per request, for transient failures and 429/503
    int maxRetryAfterSeconds = 120; // a longer Retry-After is reported rather than waited for
    int backoffBaseMs = 1000;
    int backoffCapMs = 30000;
    int minWriteIntervalMs = 0; // writes (not GET) at most one per this interval, in order (the status page: 1 s)
    int defaultHeartbeatMs = 15000; // until the server says otherwise (X-Heartbeat-Interval-Ms)
};

// A monitoring service's connection (Prometheus, Alertmanager): `bearerToken` sent as Bearer, else `basicAuth`
// ("user:password") as Basic; short retries (the caller asks again anyway).
ClientConfig serviceClientConfig(const QUrl &url, const QString &bearerToken, const QString &basicAuth,
    const QString &caFile, bool insecure, int requestTimeoutMs, qint64 maxResponseBytes, int maxAttempts);
// Why a service URL typed by a person cannot be used (`service` names it: "Prometheus"); empty when it can.
QString serviceUrlProblem(const QUrl &url, const QString &service);

// A request for `pathAndQuery` ("/v1/workers?limit=10") on the configured server, with the token, the user agent
// and the TLS settings (extra CA, insecure mode) applied. Every request of the client library starts here.
QNetworkRequest networkRequest(const ClientConfig &config, const QString &pathAndQuery);

// Why an id (most often one a server chose) cannot go into a URL path: the contract's ids are 1 to 128 of
// A-Z a-z 0-9 . _ : ~ - and do not start with a dot (so never "." or ".."); empty when it can. `what` names it
// ("operation", "incident"). The id in the words is escaped and shortened.
QString idProblem(const QString &id, const QString &what);
constexpr int kMaxIdLength = 128;

// "the server redirected to https://other:8443/v1/me; not followed: ..." for a 3xx answer.
QString describeRedirect(const ClientConfig &config, const QUrl &location);

// Server-supplied intervals, clamped to what a client should honour and computed in 64 bits.
qint64 clampRetryAfterMs(qint64 seconds); // 0 .. 1 h
int clampHeartbeatMs(qint64 ms); // 1 s .. 5 min

} // namespace fleet
