#include "fleetclient.h"

#include "isotime.h"
#include "jsonwriter.h"
#include "terminalsafe.h"
#include "wiredecode.h"

#include <QDateTime>
#include <QFile>
#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QThread>
#include <QTimer>
#include <QUrlQuery>
#include <QUuid>
#include <QtConcurrent/QtConcurrentRun>

#if defined(Q_OS_LINUX)
#include <sched.h>
#endif

Q_LOGGING_CATEGORY(lcApi, "fleet.api", QtInfoMsg)

namespace fleet {

namespace {

// Answers that are small by contract are refused past these sizes, so that a hostile or broken server cannot have
// the caller's thread (the GUI's) read and decode megabytes: one operation or dry run is well under 10 KB; a page
// of operations (at most 500) under 1 MB.
constexpr qint64 kMaxOperationBytes = 1024 * 1024;
constexpr qint64 kMaxOperationListBytes = 4 * 1024 * 1024;

WireDecoder &threadDecoder()
{
    thread_local WireDecoder decoder;
    return decoder;
}

QByteArray actionBody(const QString &reason, qint64 expiresAt, const std::function<void(JsonWriter &)> &more = {})
{
    QByteArray body;
    JsonWriter w(&body);
    w.beginObject();
    if (more)
        more(w);
    w.field("reason", QStringView(reason));
    if (expiresAt > 0) {
        w.key("expires_at");
        w.timestamp(expiresAt);
    }
    w.endObject();
    return body;
}

// A decoder's result as the client's: a decode failure is an error of kind Decode.
template <typename T> ApiResult<T> fromDecoded(Result<T> decoded)
{
    if (decoded.ok())
        return ApiResult<T>::success(decoded.take());
    ApiError error;
    error.kind = ApiError::Kind::Decode;
    error.message = decoded.error();
    return ApiResult<T>::failure(std::move(error));
}

QString newKey()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

QString pathPart(const QString &segment)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(segment));
}

} // namespace

FleetClient::Action FleetClient::provision(
    const QString &region, int count, Arch arch, const QString &reason, qint64 expiresAt)
{
    return { QStringLiteral("/v1/regions/%1/provision").arg(pathPart(region)),
        actionBody(reason, expiresAt,
            [&](JsonWriter &w) {
                w.field("count", count);
                w.field("arch", wireName(arch));
            }),
        newKey(), QStringLiteral("provision %1 %2 workers in %3").arg(count).arg(wireName(arch)).arg(region) };
}

FleetClient::Action FleetClient::drainRegion(const QString &region, const QString &reason, qint64 expiresAt)
{
    return { QStringLiteral("/v1/regions/%1/drain").arg(pathPart(region)), actionBody(reason, expiresAt), newKey(),
        QStringLiteral("drain region %1").arg(region) };
}

FleetClient::Action FleetClient::resumeRegion(const QString &region, const QString &reason)
{
    return { QStringLiteral("/v1/regions/%1/resume").arg(pathPart(region)), actionBody(reason, 0), newKey(),
        QStringLiteral("resume region %1").arg(region) };
}

FleetClient::Action FleetClient::drainWorker(const QString &worker, const QString &reason)
{
    return { QStringLiteral("/v1/workers/%1/drain").arg(pathPart(worker)), actionBody(reason, 0), newKey(),
        QStringLiteral("drain worker %1").arg(worker) };
}

FleetClient::Action FleetClient::cancel(const QString &operation, const QString &reason)
{
    return { QStringLiteral("/v1/operations/%1/cancel").arg(pathPart(operation)), actionBody(reason, 0), newKey(),
        QStringLiteral("cancel %1").arg(operation) };
}

FleetClient::FleetClient(ClientConfig config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_http(new HttpTransport(std::move(config), &FleetClient::describeError, this))
{
    connect(m_http, &HttpTransport::requestFinished, this, &FleetClient::requestFinished);
}

FleetClient::~FleetClient() = default;

QByteArray FleetClient::describeForLog(const QNetworkRequest &request, const QByteArray &verb)
{
    return HttpTransport::describeForLog(request, verb);
}

void FleetClient::describeError(ApiError &error, const QByteArray &body, const QString &reasonPhrase)
{
    // The Fleet API answers errors with an RFC 9457 problem document; its detail is what a person reads.
    const auto problem = threadDecoder().problem(body, QStringLiteral("error answer"));
    QString detail;
    if (problem.ok()) {
        error.problem = problem.value();
        detail = problem.value().detail;
    }
    switch (error.kind) {
    case ApiError::Kind::Unauthorized:
        error.message = QStringLiteral("the server did not accept the token (401)%1")
                            .arg(detail.isEmpty() ? QString() : QStringLiteral(": ") + detail);
        break;
    case ApiError::Kind::Forbidden:
        error.message
            = QStringLiteral("not allowed (403)%1").arg(detail.isEmpty() ? QString() : QStringLiteral(": ") + detail);
        break;
    default:
        error.message = QStringLiteral("HTTP %1%2")
                            .arg(error.httpStatus)
                            .arg(detail.isEmpty() ? QStringLiteral(" ") + reasonPhrase : QStringLiteral(": ") + detail);
        if (error.retryAfterSeconds >= 0)
            error.message += QStringLiteral(" (retry after %1 s)").arg(error.retryAfterSeconds);
    }
}

namespace {

// While it lives, the current thread is scheduled as batch work (Linux): on a machine with few cores, the GUI
// thread waking up takes the core from it at once instead of waiting out its time slice. Undone on the way out,
// which an unprivileged process may do (unlike lowering a nice value).
class BackgroundScheduling
{
public:
    BackgroundScheduling()
    {
#if defined(Q_OS_LINUX) && defined(SCHED_BATCH)
        sched_param param {};
        m_previous = sched_getscheduler(0);
        m_changed = m_previous == SCHED_OTHER && sched_setscheduler(0, SCHED_BATCH, &param) == 0;
#endif
    }
    ~BackgroundScheduling()
    {
#if defined(Q_OS_LINUX) && defined(SCHED_BATCH)
        sched_param param {};
        if (m_changed)
            sched_setscheduler(0, m_previous, &param);
#endif
    }
    BackgroundScheduling(const BackgroundScheduling &) = delete;
    BackgroundScheduling &operator=(const BackgroundScheduling &) = delete;

private:
    int m_previous = 0;
    bool m_changed = false;
};

// Decodes `body` on a pool thread (background scheduling) and hands the result to `done` on `context`'s thread.
// Delivered through a watcher owned by the context: if the context is destroyed while the pool decodes (a shutdown
// during a resync), the watcher goes with it and nothing is delivered. QFuture::then(context) asserted, and in a
// release build dereferenced the dead context (issue #11, the SIGSEGV at shutdown).
template <typename T>
void decodeOnPool(const QPointer<QObject> &context, QByteArray body, std::function<void(ApiResult<T>)> done,
    Result<T> (*decode)(WireDecoder &, const QByteArray &))
{
    if (!context)
        return;
    auto future = QtConcurrent::run([body = std::move(body), decode] {
        const BackgroundScheduling batch;
        return decode(threadDecoder(), body);
    });
    auto *watcher = new QFutureWatcher<Result<T>>(context.data());
    QObject::connect(watcher, &QFutureWatcherBase::finished, watcher, [watcher, done = std::move(done)] {
        watcher->deleteLater();
        // Take the result out of the future: a copy of 50,000 workers here would block this thread.
        done(fromDecoded(watcher->future().takeResult()));
    });
    watcher->setFuture(future);
}
} // namespace

template <typename T, typename Decode>
void FleetClient::get(
    const QString &path, QObject *context, Callback<T> done, Decode decode, qint64 maxBytes, Retry retry)
{
    Request request;
    request.path = path;
    request.maxBytes = maxBytes;
    request.retryTransient = retry == Retry::Transient;
    m_http->send(request, context,
        [done = std::move(done), decode, ep = QString(QStringLiteral("GET ") + path.section(u'?', 0, 0))](Raw raw) {
            done(raw.error.isError() ? ApiResult<T>::failure(raw.error)
                                     : fromDecoded(decode(threadDecoder(), raw.body, ep)));
        });
}

void FleetClient::me(QObject *context, Callback<Identity> done)
{
    get<Identity>(QStringLiteral("/v1/me"), context, std::move(done),
        [](WireDecoder &d, const QByteArray &b, const QString &ep) { return d.identity(b, ep); });
}

void FleetClient::regions(QObject *context, Callback<Page<Region>> done, Retry retry)
{
    get<Page<Region>>(
        QStringLiteral("/v1/regions"), context, std::move(done),
        [](WireDecoder &d, const QByteArray &b, const QString &ep) { return d.regions(b, ep); }, 0, retry);
}

void FleetClient::workers(const WorkerQuery &query, QObject *context, Callback<Page<Worker>> done)
{
    QUrlQuery q;
    if (!query.region.isEmpty())
        q.addQueryItem(QStringLiteral("region"), query.region);
    if (!query.state.isEmpty())
        q.addQueryItem(QStringLiteral("state"), query.state);
    if (!query.arch.isEmpty())
        q.addQueryItem(QStringLiteral("arch"), query.arch);
    q.addQueryItem(QStringLiteral("limit"), QString::number(query.limit));
    if (!query.cursor.isEmpty())
        q.addQueryItem(QStringLiteral("cursor"), query.cursor);
    get<Page<Worker>>(QStringLiteral("/v1/workers?") + q.toString(QUrl::FullyEncoded), context, std::move(done),
        [](WireDecoder &d, const QByteArray &b, const QString &ep) { return d.workers(b, ep); });
}

void FleetClient::health(const QString &region, const QString &from, const QString &to, int stepSeconds,
    QObject *context, Callback<HealthHistory> done)
{
    QUrlQuery q;
    if (!from.isEmpty())
        q.addQueryItem(QStringLiteral("from"), from);
    if (!to.isEmpty())
        q.addQueryItem(QStringLiteral("to"), to);
    q.addQueryItem(QStringLiteral("step"), QString::number(stepSeconds));
    Request request;
    request.path = QStringLiteral("/v1/regions/%1/health?").arg(pathPart(region)) + q.toString(QUrl::FullyEncoded);
    QPointer<QObject> guard(context);
    m_http->send(request, context, [guard, done = std::move(done)](Raw raw) {
        if (raw.error.isError()) {
            done(ApiResult<HealthHistory>::failure(raw.error));
            return;
        }
        // A day of a region's samples is thousands of them: decoded on a pool thread, like a snapshot (perf on
        // fault-console showed this decode as the GUI thread's longest block after a reconnect, issue #22).
        decodeOnPool<HealthHistory>(
            guard, std::move(raw.body), std::move(done), [](WireDecoder &d, const QByteArray &b) {
                return d.health(b, QStringLiteral("GET /v1/regions/{id}/health"));
            });
    });
}

void FleetClient::snapshot(QObject *context, Callback<Snapshot> done)
{
    Request request;
    request.path = QStringLiteral("/v1/fleet/snapshot");
    request.timeoutMs = m_config.snapshotTimeoutMs;
    request.ownThread = true;
    QPointer<QObject> guard(context);
    m_http->send(request, context, [guard, done = std::move(done)](Raw raw) {
        if (raw.error.isError()) {
            done(ApiResult<Snapshot>::failure(raw.error));
            return;
        }
        // ~20 MB at 50,000 workers: decode on a pool thread, deliver on the context's thread.
        decodeOnPool<Snapshot>(guard, std::move(raw.body), std::move(done), [](WireDecoder &d, const QByteArray &b) {
            return d.snapshot(b, QStringLiteral("GET /v1/fleet/snapshot"));
        });
    });
}

void FleetClient::operations(const QString &query, QObject *context, Callback<Page<Operation>> done)
{
    get<Page<Operation>>(
        QStringLiteral("/v1/operations") + (query.isEmpty() ? QString() : u'?' + query), context, std::move(done),
        [](WireDecoder &d, const QByteArray &b, const QString &ep) { return d.operations(b, ep); },
        kMaxOperationListBytes);
}

void FleetClient::operation(const QString &id, QObject *context, Callback<Operation> done)
{
    // Often an id the server chose (a 409 names the operation in the way): checked before it goes into the path.
    if (refuseBadId(id, QStringLiteral("operation"), context, done))
        return;
    get<Operation>(
        QStringLiteral("/v1/operations/") + pathPart(id), context, std::move(done),
        [](WireDecoder &d, const QByteArray &b, const QString &ep) { return d.operation(b, ep); }, kMaxOperationBytes);
}

void FleetClient::audit(int limit, const QString &cursor, QObject *context, Callback<Page<AuditEntry>> done)
{
    QString path = QStringLiteral("/v1/audit?limit=%1").arg(limit);
    if (!cursor.isEmpty())
        path += QStringLiteral("&cursor=") + pathPart(cursor);
    get<Page<AuditEntry>>(path, context, std::move(done),
        [](WireDecoder &d, const QByteArray &b, const QString &ep) { return d.audit(b, ep); });
}

void FleetClient::preview(const Action &action, QObject *context, Callback<DryRunResult> done)
{
    Request request;
    request.verb = "POST";
    request.path = action.path + QStringLiteral("?dry_run=true");
    request.body = action.body;
    request.maxBytes = kMaxOperationBytes;
    m_http->send(
        request, context, [done = std::move(done), ep = QString(QStringLiteral("POST ") + action.path)](Raw raw) {
            if (raw.error.isError())
                done(ApiResult<DryRunResult>::failure(raw.error));
            else
                done(fromDecoded(threadDecoder().dryRun(raw.body, ep)));
        });
}

void FleetClient::perform(const Action &action, QObject *context, Callback<Operation> done)
{
    Request request;
    request.verb = "POST";
    request.path = action.path;
    request.body = action.body;
    request.maxBytes = kMaxOperationBytes;
    request.idempotencyKey = action.idempotencyKey;
    const QPointer<QObject> guard(context);
    // After an unknown outcome: the operation made with this key, if the server has one, is the answer.
    auto lookUp = [this, guard, action, done](std::function<void(HttpTransport::Found)> happened) {
        operations(QStringLiteral("idempotency_key=") + pathPart(action.idempotencyKey), guard.data(),
            [action, done, happened](ApiResult<Page<Operation>> found) {
                if (!found.ok()) {
                    // Unreachable still: sending again with the same key is safe, since the server keeps one
                    // operation per key (and a server that did not get it needs it).
                    happened(HttpTransport::Found::No);
                    return;
                }
                for (const Operation &op : found->items) {
                    if (op.idempotencyKey != action.idempotencyKey)
                        continue;
                    qCInfo(lcApi).noquote()
                        << terminalSafe(action.description) << "had been accepted as" << terminalSafe(op.id);
                    done(ApiResult<Operation>::success(op));
                    happened(HttpTransport::Found::Yes);
                    return;
                }
                // Other operations and not ours: the server ignored the filter, so its list proves nothing.
                happened(found->items.empty() ? HttpTransport::Found::No : HttpTransport::Found::Unknown);
            });
    };
    m_http->sendOnce(
        request, context,
        [done, ep = QString(QStringLiteral("POST ") + action.path)](Raw raw) {
            if (raw.error.isError())
                done(ApiResult<Operation>::failure(raw.error));
            else
                done(fromDecoded(threadDecoder().operation(raw.body, ep)));
        },
        std::move(lookUp), action.description);
}

} // namespace fleet
