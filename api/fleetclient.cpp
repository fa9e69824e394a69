#include "fleetclient.h"

#include "isotime.h"
#include "jsonwriter.h"
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

WireDecoder &threadDecoder()
{
    thread_local WireDecoder decoder;
    return decoder;
}

int parseRetryAfter(const QByteArray &value)
{
    if (value.isEmpty())
        return -1;
    // Seconds, or an HTTP date; whatever the server says, at most a day (64-bit arithmetic, then clamped).
    bool ok = false;
    const qint64 seconds = value.trimmed().toLongLong(&ok);
    if (ok)
        return int(std::clamp<qint64>(seconds, 0, 86400));
    const QDateTime when = QDateTime::fromString(QString::fromLatin1(value).trimmed(), Qt::RFC2822Date);
    return when.isValid() ? int(std::clamp<qint64>(QDateTime::currentDateTimeUtc().secsTo(when), 0, 86400)) : -1;
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
    , m_config(std::move(config))
    , m_nam(new QNetworkAccessManager(this))
    , m_backoff(m_config.backoffBaseMs, m_config.backoffCapMs)
{
    m_nam->setAutoDeleteReplies(false);
}

FleetClient::~FleetClient()
{
    // First, while everything here is still alive: a transfer finishing meanwhile may still post its outcome to
    // this object (the post is discarded with it).
    if (m_networkThread) {
        m_networkThread->quit();
        m_networkThread->wait();
    }
}

QByteArray FleetClient::describeForLog(const QNetworkRequest &request, const QByteArray &verb)
{
    QByteArray out = verb + ' ' + request.url().toString(QUrl::RemoveUserInfo).toUtf8();
    for (const QByteArray &name : request.rawHeaderList()) {
        const bool secret = name.compare("Authorization", Qt::CaseInsensitive) == 0
            || name.compare("Cookie", Qt::CaseInsensitive) == 0;
        out += "\n" + name + ": " + (secret ? QByteArrayLiteral("<redacted>") : request.rawHeader(name));
    }
    return out;
}

QString FleetClient::endpoint(const Request &request) const
{
    return QString::fromLatin1(request.verb) + u' ' + request.path.section(u'?', 0, 0);
}

namespace {

// Collects a reply's body as it arrives, into a buffer sized from Content-Length (plus simdjson's padding), so that
// a 20 MB snapshot never costs one big copy at the end. A reply can hand over several megabytes at once: they are
// taken a megabyte at a time, each slice an event of its own, so nothing else on the reply's thread (the GUI, for
// ordinary requests) waits long behind them. Calls `finished` once the reply has finished and everything is read.
// An answer announced or growing beyond `cap` is aborted, with the reply's "fleetTooLarge" property set.
// Lives as the reply's child: queued slices go with it.
class BodyReader : public QObject
{
public:
    BodyReader(QNetworkReply *reply, qint64 cap, std::function<void(QByteArray)> finished)
        : QObject(reply)
        , m_reply(reply)
        , m_cap(cap)
        , m_finished(std::move(finished))
    {
        connect(reply, &QNetworkReply::metaDataChanged, this, [this] {
            const qint64 length = m_reply->header(QNetworkRequest::ContentLengthHeader).toLongLong();
            if (length > m_cap)
                return tooLarge();
            if (length > 0)
                m_body.reserve(qsizetype(length) + 64);
        });
        connect(reply, &QNetworkReply::readyRead, this, [this] {
            if (!m_queued)
                readSlice();
        });
        connect(reply, &QNetworkReply::finished, this, [this] {
            m_replyFinished = true;
            if (!m_queued)
                readSlice(); // otherwise the queued slices finish it
        });
    }

private:
    static constexpr qint64 kSlice = 1024 * 1024;

    void readSlice()
    {
        m_queued = false;
        const qint64 n = std::min(m_reply->bytesAvailable(), kSlice);
        if (n > 0) {
            if (m_body.size() + m_reply->bytesAvailable() > m_cap)
                return tooLarge();
            const qsizetype at = m_body.size();
            m_body.resize(at + qsizetype(n));
            m_body.resize(at + qsizetype(std::max<qint64>(0, m_reply->read(m_body.data() + at, n))));
        }
        if (m_reply->bytesAvailable() > 0) {
            m_queued = true;
            QMetaObject::invokeMethod(this, &BodyReader::readSlice, Qt::QueuedConnection);
        } else if (m_replyFinished && m_finished) {
            std::exchange(m_finished, {})(std::move(m_body));
        }
    }

    void tooLarge()
    {
        m_reply->setProperty("fleetTooLarge", true);
        m_reply->abort(); // finishes the reply, and so this reader
    }

    QNetworkReply *m_reply;
    qint64 m_cap;
    std::function<void(QByteArray)> m_finished;
    QByteArray m_body;
    bool m_queued = false; // a slice is queued
    bool m_replyFinished = false;
};

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
} // namespace

void FleetClient::send(const Request &request, QObject *context, std::function<void(Raw)> done, int attempt)
{
    QPointer<QObject> guard(context);
    auto settleHere = [=, this](Raw raw) { settle(request, guard, done, attempt, std::move(raw)); };
    if (!request.ownThread) {
        transfer(m_nam, request, attempt, std::move(settleHere));
        return;
    }
    // A large answer is read on the client's network thread; only the finished body comes back here, moved.
    QNetworkAccessManager *nam = networkThreadManager();
    QMetaObject::invokeMethod(
        nam,
        [=, this] {
            transfer(nam, request, attempt, [this, settleHere](Raw raw) {
                QMetaObject::invokeMethod(
                    this, [settleHere, raw = std::move(raw)]() mutable { settleHere(std::move(raw)); },
                    Qt::QueuedConnection);
            });
        },
        Qt::QueuedConnection);
}

QNetworkAccessManager *FleetClient::networkThreadManager()
{
    if (!m_networkThread) {
        m_networkThread = new QThread(this);
        m_networkThread->setObjectName(QStringLiteral("fleet-network"));
        m_threadNam = new QNetworkAccessManager; // no parent: it moves to the thread and is deleted there
        m_threadNam->setAutoDeleteReplies(false);
        m_threadNam->moveToThread(m_networkThread);
        connect(m_networkThread, &QThread::finished, m_threadNam, &QObject::deleteLater);
        m_networkThread->start();
    }
    return m_threadNam;
}

void FleetClient::settle(
    const Request &request, QPointer<QObject> guard, std::function<void(Raw)> done, int attempt, Raw raw)
{
    Q_EMIT requestFinished(endpoint(request), raw.status, raw.error.message);
    if (!guard)
        return;
    const bool retryable = (request.retryTransient && raw.error.transient())
        || ((raw.status == 429 || raw.status == 503) && raw.error.retryAfterSeconds >= 0);
    if (retryable && attempt < m_config.maxAttempts && raw.error.retryAfterSeconds <= m_config.maxRetryAfterSeconds) {
        const qint64 delay = raw.error.retryAfterSeconds >= 0 ? clampRetryAfterMs(raw.error.retryAfterSeconds)
                                                              : m_backoff.nextDelayMs() / (attempt > 1 ? 1 : 2);
        qCInfo(lcApi).noquote() << endpoint(request) << "failed:" << raw.error.message << "- retrying in" << delay
                                << "ms";
        QTimer::singleShot(std::chrono::milliseconds(delay), guard.data(),
            [=, this] { send(request, guard.data(), done, attempt + 1); });
        return;
    }
    done(std::move(raw));
}

void FleetClient::transfer(
    QNetworkAccessManager *nam, const Request &request, int attempt, std::function<void(Raw)> concluded)
{
    QNetworkRequest r = networkRequest(m_config, request.path);
    r.setTransferTimeout(request.timeoutMs > 0 ? request.timeoutMs : m_config.requestTimeoutMs);
    r.setRawHeader("Accept", "application/json, application/problem+json");
    if (!request.body.isEmpty())
        r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!request.idempotencyKey.isEmpty())
        r.setRawHeader("Idempotency-Key", request.idempotencyKey.toLatin1());
    qCDebug(lcApi).noquote() << "attempt" << attempt << describeForLog(r, request.verb);

    QNetworkReply *reply = nam->sendCustomRequest(r, request.verb, request.body);
    // Qt's transfer timeout is an inactivity timeout: a body trickling in a few bytes a second never trips it. The
    // deadline bounds the whole answer.
    auto *deadline = new QTimer(reply);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, reply, [reply] {
        reply->setProperty("fleetDeadline", true);
        reply->abort();
    });
    deadline->start(request.timeoutMs > 0 ? request.timeoutMs : m_config.requestTimeoutMs);
    new BodyReader(reply, m_config.maxResponseBytes, [=, this](QByteArray body) {
        reply->deleteLater();
        concluded(conclude(reply, request, std::move(body)));
    });
}

FleetClient::Raw FleetClient::conclude(QNetworkReply *reply, const Request &request, QByteArray body)
{
    Raw raw;
    raw.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->property("fleetTooLarge").toBool()) {
        raw.error.kind = ApiError::Kind::TooLarge;
        raw.error.message = QStringLiteral("%1: the answer is larger than the %2 MB limit; refused")
                                .arg(endpoint(request))
                                .arg(m_config.maxResponseBytes / (1024 * 1024));
        return raw;
    }
    if (reply->property("fleetDeadline").toBool()) {
        raw.error.kind = ApiError::Kind::Timeout;
        raw.error.message = QStringLiteral("%1: no complete answer within %2 s (%3 bytes received): the server is "
                                           "stalled or far too slow")
                                .arg(endpoint(request))
                                .arg((request.timeoutMs > 0 ? request.timeoutMs : m_config.requestTimeoutMs) / 1000)
                                .arg(body.size());
        return raw;
    }
    if (raw.status == 0) {
        raw.error = ApiError::fromNetwork(reply->error(), reply->errorString());
        raw.error.message = QStringLiteral("%1: %2").arg(endpoint(request), raw.error.message);
        return raw;
    }
    raw.body = std::move(body);
    const QVariant length = reply->header(QNetworkRequest::ContentLengthHeader);
    if (length.isValid() && raw.body.size() < length.toLongLong()) {
        // Not a JSON problem: the connection ended before the answer did.
        raw.error.kind = ApiError::Kind::Network;
        raw.error.httpStatus = raw.status;
        raw.error.message = QStringLiteral("%1: the answer was cut short after %2 of %3 bytes")
                                .arg(endpoint(request))
                                .arg(raw.body.size())
                                .arg(length.toLongLong());
        raw.body.clear();
        return raw;
    }
    if (raw.status >= 200 && raw.status < 300)
        return raw;
    if (raw.status >= 300 && raw.status < 400) {
        raw.error.kind = ApiError::Kind::Http;
        raw.error.httpStatus = raw.status;
        raw.error.message = QStringLiteral("%1: HTTP %2: %3")
                                .arg(endpoint(request))
                                .arg(raw.status)
                                .arg(describeRedirect(m_config, QUrl::fromEncoded(reply->rawHeader("Location"))));
        raw.body.clear();
        return raw;
    }

    raw.error.httpStatus = raw.status;
    raw.error.retryAfterSeconds = parseRetryAfter(reply->rawHeader("Retry-After"));
    const auto problem = threadDecoder().problem(raw.body, endpoint(request));
    QString detail;
    if (problem.ok()) {
        raw.error.problem = problem.value();
        detail = problem.value().detail;
    }
    switch (raw.status) {
    case 401:
        raw.error.kind = ApiError::Kind::Unauthorized;
        raw.error.message = QStringLiteral("the server did not accept the token (401)%1")
                                .arg(detail.isEmpty() ? QString() : QStringLiteral(": ") + detail);
        break;
    case 403:
        raw.error.kind = ApiError::Kind::Forbidden;
        raw.error.message
            = QStringLiteral("not allowed (403)%1").arg(detail.isEmpty() ? QString() : QStringLiteral(": ") + detail);
        break;
    default:
        raw.error.kind = ApiError::Kind::Http;
        raw.error.message = QStringLiteral("HTTP %1%2")
                                .arg(raw.status)
                                .arg(detail.isEmpty() ? QStringLiteral(" ")
                                            + reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString()
                                                      : QStringLiteral(": ") + detail);
        if (raw.error.retryAfterSeconds >= 0)
            raw.error.message += QStringLiteral(" (retry after %1 s)").arg(raw.error.retryAfterSeconds);
    }
    raw.error.message = QStringLiteral("%1: %2").arg(endpoint(request), raw.error.message);
    return raw;
}

template <typename T, typename Decode>
void FleetClient::get(const QString &path, QObject *context, Callback<T> done, Decode decode)
{
    Request request;
    request.path = path;
    send(request, context,
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

void FleetClient::regions(QObject *context, Callback<Page<Region>> done)
{
    get<Page<Region>>(QStringLiteral("/v1/regions"), context, std::move(done),
        [](WireDecoder &d, const QByteArray &b, const QString &ep) { return d.regions(b, ep); });
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
    get<HealthHistory>(QStringLiteral("/v1/regions/%1/health?").arg(pathPart(region)) + q.toString(QUrl::FullyEncoded),
        context, std::move(done),
        [](WireDecoder &d, const QByteArray &b, const QString &ep) { return d.health(b, ep); });
}

void FleetClient::snapshot(QObject *context, Callback<Snapshot> done)
{
    Request request;
    request.path = QStringLiteral("/v1/fleet/snapshot");
    request.timeoutMs = m_config.snapshotTimeoutMs;
    request.ownThread = true;
    QPointer<QObject> guard(context);
    send(request, context, [guard, done = std::move(done)](Raw raw) {
        if (raw.error.isError()) {
            done(ApiResult<Snapshot>::failure(raw.error));
            return;
        }
        // ~20 MB at 50,000 workers: decode on a pool thread, deliver on the context's thread.
        auto future = QtConcurrent::run([body = std::move(raw.body)] {
            const BackgroundScheduling batch;
            return threadDecoder().snapshot(body, QStringLiteral("GET /v1/fleet/snapshot"));
        });
        // Delivered through a watcher owned by the context: if the context is destroyed while the pool decodes
        // (a shutdown during a resync), the watcher goes with it and nothing is delivered. QFuture::then(context)
        // asserted, and in a release build dereferenced the dead context (issue #11, the SIGSEGV at shutdown).
        if (!guard)
            return;
        auto *watcher = new QFutureWatcher<Result<Snapshot>>(guard.data());
        QObject::connect(watcher, &QFutureWatcherBase::finished, watcher, [watcher, done] {
            watcher->deleteLater();
            // Take the result out of the future: a copy of 50,000 workers here would block this thread.
            done(fromDecoded(watcher->future().takeResult()));
        });
        watcher->setFuture(future);
    });
}

void FleetClient::operations(const QString &query, QObject *context, Callback<Page<Operation>> done)
{
    get<Page<Operation>>(QStringLiteral("/v1/operations") + (query.isEmpty() ? QString() : u'?' + query), context,
        std::move(done), [](WireDecoder &d, const QByteArray &b, const QString &ep) { return d.operations(b, ep); });
}

void FleetClient::operation(const QString &id, QObject *context, Callback<Operation> done)
{
    get<Operation>(QStringLiteral("/v1/operations/") + pathPart(id), context, std::move(done),
        [](WireDecoder &d, const QByteArray &b, const QString &ep) { return d.operation(b, ep); });
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
    send(request, context, [done = std::move(done), ep = QString(QStringLiteral("POST ") + action.path)](Raw raw) {
        if (raw.error.isError())
            done(ApiResult<DryRunResult>::failure(raw.error));
        else
            done(fromDecoded(threadDecoder().dryRun(raw.body, ep)));
    });
}

void FleetClient::perform(const Action &action, QObject *context, Callback<Operation> done)
{
    performAttempt(action, QPointer<QObject>(context), std::move(done), 1);
}

void FleetClient::performAttempt(const Action &action, QPointer<QObject> context, Callback<Operation> done, int attempt)
{
    if (!context)
        return;
    Request request;
    request.verb = "POST";
    request.path = action.path;
    request.body = action.body;
    request.idempotencyKey = action.idempotencyKey;
    request.retryTransient = false; // the outcome of a failed POST is unknown: reconcile first (below)
    send(request, context.data(), [=, this](Raw raw) {
        if (!raw.error.isError()) {
            done(fromDecoded(threadDecoder().operation(raw.body, QStringLiteral("POST ") + action.path)));
            return;
        }
        if ((raw.error.outcomeUnknown() || raw.error.kind == ApiError::Kind::Network)
            && attempt < m_config.maxAttempts) {
            reconcile(action, context, done, attempt, raw.error);
            return;
        }
        done(ApiResult<Operation>::failure(raw.error));
    });
}

void FleetClient::reconcile(
    const Action &action, QPointer<QObject> context, Callback<Operation> done, int attempt, const ApiError &cause)
{
    // Did the failed attempt act? Ask for the operation made with this key before sending it again.
    qCInfo(lcApi).noquote() << action.description << "- outcome unknown (" << cause.message << "); reconciling";
    const int delay = m_backoff.nextDelayMs();
    QTimer::singleShot(delay, context.data(), [=, this] {
        operations(QStringLiteral("idempotency_key=") + pathPart(action.idempotencyKey), context.data(),
            [=, this](ApiResult<Page<Operation>> found) {
                if (found.ok() && !found->items.empty()) {
                    qCInfo(lcApi).noquote() << action.description << "had been accepted as" << found->items.front().id;
                    done(ApiResult<Operation>::success(found->items.front()));
                    return;
                }
                // Not there (or the server is still unreachable): retrying with the same key is safe either way.
                performAttempt(action, context, done, attempt + 1);
            });
    });
}

} // namespace fleet
