#pragma once

#include "apierror.h"
#include "backoff.h"
#include "clientconfig.h"
#include "fleettypes.h"
#include "httptransport.h"

#include <QObject>
#include <QPointer>

#include <functional>

class QNetworkReply;
class QNetworkRequest;

namespace fleet {

// The Fleet API's REST calls, typed. One QNetworkAccessManager (and one on a network thread of its own for
// snapshots); every reply handled in one place; a transfer timeout and a size cap on every request; 429/503
// Retry-After honoured; transient failures of reads retried with backoff. Actions carry one Idempotency-Key per
// user action, reused on every retry, and after an unknown outcome (timeout, reset, 5xx) the client asks the
// server whether the action happened before retrying it.
// Callbacks run on `context`'s thread and are dropped if `context` is destroyed first.
class FleetClient : public QObject
{
    Q_OBJECT

public:
    template <typename T> using Callback = std::function<void(ApiResult<T>)>;

    struct WorkerQuery
    {
        QString region;
        QString state;
        QString arch;
        int limit = 500;
        QString cursor;
    };

    // A mutating call, made once per user action: the idempotency key is fixed at creation.
    struct Action
    {
        QString path;
        QByteArray body;
        QString idempotencyKey;
        QString description; // "provision 20 amd64 workers in eu-west", for messages
    };

    static Action provision(const QString &region, int count, Arch arch, const QString &reason, qint64 expiresAt = 0);
    static Action drainRegion(const QString &region, const QString &reason, qint64 expiresAt = 0);
    static Action resumeRegion(const QString &region, const QString &reason);
    static Action drainWorker(const QString &worker, const QString &reason);
    static Action cancel(const QString &operation, const QString &reason);

    explicit FleetClient(ClientConfig config, QObject *parent = nullptr);
    ~FleetClient() override;

    const ClientConfig &config() const { return m_config; }

    void me(QObject *context, Callback<Identity> done);
    // Retry::Never: no retry of a transient failure (a preview the caller can do without; retries would share the
    // transport's backoff with the requests that matter).
    enum class Retry { Transient, Never };
    void regions(QObject *context, Callback<Page<Region>> done, Retry retry = Retry::Transient);
    void workers(const WorkerQuery &query, QObject *context, Callback<Page<Worker>> done);
    void health(const QString &region, const QString &from, const QString &to, int stepSeconds, QObject *context,
        Callback<HealthHistory> done);
    // Read on the client's network thread and decoded on a pool thread, so a 50,000-worker snapshot does not block
    // the caller's thread.
    void snapshot(QObject *context, Callback<Snapshot> done);
    void operations(const QString &query, QObject *context, Callback<Page<Operation>> done);
    void operation(const QString &id, QObject *context, Callback<Operation> done);
    void audit(int limit, const QString &cursor, QObject *context, Callback<Page<AuditEntry>> done);

    void perform(const Action &action, QObject *context, Callback<Operation> done);
    void preview(const Action &action, QObject *context, Callback<DryRunResult> done);

    // Request headers as they may be logged: Authorization is replaced by "<redacted>".
    static QByteArray describeForLog(const QNetworkRequest &request, const QByteArray &verb);

Q_SIGNALS:
    // After every request that reached a conclusion; for status bars and fleetctl's verbose mode.
    void requestFinished(const QString &endpoint, int httpStatus, const QString &error);

private:
    using Raw = HttpTransport::Raw;
    using Request = HttpTransport::Request;

    static void describeError(ApiError &error, const QByteArray &body, const QString &reasonPhrase);
    template <typename T, typename Decode>
    void get(const QString &path, QObject *context, Callback<T> done, Decode decode, qint64 maxBytes = 0,
        Retry retry = Retry::Transient);

    ClientConfig m_config;
    HttpTransport *m_http;
};

} // namespace fleet
