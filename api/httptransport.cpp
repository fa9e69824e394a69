#include "httptransport.h"

#include "terminalsafe.h"

#include <QDateTime>
#include <QLocale>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QThread>
#include <QTimer>

#include <algorithm>

Q_LOGGING_CATEGORY(lcHttp, "fleet.api", QtInfoMsg)

namespace fleet {

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

} // namespace

int HttpTransport::parseRetryAfter(const QByteArray &value)
{
    return parseRetryAfter(value, QDateTime::currentDateTimeUtc());
}

int HttpTransport::parseRetryAfter(const QByteArray &value, const QDateTime &now)
{
    const QByteArray trimmed = value.trimmed();
    if (trimmed.isEmpty() || trimmed.size() > 100)
        return -1;
    // Seconds, or an HTTP date; whatever the server says, at most a day (64-bit arithmetic, then clamped).
    bool ok = false;
    const qint64 seconds = trimmed.toLongLong(&ok);
    if (ok)
        return int(std::clamp<qint64>(seconds, 0, 86400));
    // RFC 9110 §5.6.7: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), and the obsolete RFC 850 and asctime forms
    // a recipient must still read. Names are English whatever the user's locale.
    // The day's name is left out: it says nothing the date does not, and a two-digit year would contradict it.
    const QString text = QString::fromLatin1(trimmed).simplified();
    const QString dateOnly = text.section(u' ', 1);
    const QLocale c = QLocale::c();
    QDateTime when;
    for (const QString &format : { QStringLiteral("dd MMM yyyy HH:mm:ss 'GMT'"),
             QStringLiteral("dd-MMM-yy HH:mm:ss 'GMT'"), QStringLiteral("MMM d HH:mm:ss yyyy") }) {
        when = c.toDateTime(dateOnly, format);
        if (when.isValid())
            break;
    }
    if (!when.isValid())
        return -1;
    when.setTimeSpec(Qt::UTC);
    if (when.date().year() < 1970)
        when = when.addYears(100); // RFC 850's two-digit years: "94" read as 1994 stays; "25" read as 1925 is 2025
    return int(std::clamp<qint64>(now.secsTo(when), 0, 86400));
}

qint64 HttpTransport::retryDelayMs(int retryAfterSeconds, qint64 backoffMs)
{
    const qint64 base
        = std::max(kMinRetryMs, retryAfterSeconds >= 0 ? clampRetryAfterMs(retryAfterSeconds) : backoffMs);
    return base + QRandomGenerator::global()->bounded(base / 5 + 1);
}

QString HttpTransport::pathProblem(const QString &pathAndQuery)
{
    const QString path = pathAndQuery.section(u'?', 0, 0);
    const QList<QStringView> segments = QStringView(path).split(u'/');
    for (qsizetype i = 1; i < segments.size(); ++i) { // [0] is what precedes the leading slash
        const QString decoded = QUrl::fromPercentEncoding(segments[i].toUtf8());
        if (decoded.isEmpty() || decoded == QLatin1String(".") || decoded == QLatin1String("..")
            || decoded.contains(u'/'))
            return QStringLiteral("the path %1 has an empty, \".\", \"..\" or slashed segment: an id that no "
                                  "server of this API can have; refused, nothing was sent")
                .arg(terminalSafe(path.left(200)));
    }
    return {};
}

void HttpTransport::redact(QString &text, const QString &secret)
{
    if (secret.size() >= 4)
        text.replace(secret, QStringLiteral("<redacted>"));
}

void HttpTransport::redact(QByteArray &bytes, const QString &secret)
{
    if (secret.size() >= 4)
        bytes.replace(secret.toUtf8(), QByteArrayLiteral("<redacted>"));
}

HttpTransport::HttpTransport(ClientConfig config, ErrorDescriber describeError, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_describeError(std::move(describeError))
    , m_nam(new QNetworkAccessManager(this))
    , m_backoff(m_config.backoffBaseMs, m_config.backoffCapMs)
{
    m_nam->setAutoDeleteReplies(false);
    m_clock.start();
}

HttpTransport::~HttpTransport()
{
    for (const WriteSender::Handle &write : std::as_const(m_writes))
        WriteSender::cancel(write);
    // First, while everything here is still alive: a transfer finishing meanwhile may still post its outcome to
    // this object (the post is discarded with it).
    if (m_networkThread) {
        m_networkThread->quit();
        m_networkThread->wait();
    }
}

QByteArray HttpTransport::describeForLog(const QNetworkRequest &request, const QByteArray &verb)
{
    QByteArray out = verb + ' ' + request.url().toString(QUrl::RemoveUserInfo).toUtf8();
    for (const QByteArray &name : request.rawHeaderList()) {
        const bool secret = name.compare("Authorization", Qt::CaseInsensitive) == 0
            || name.compare("Cookie", Qt::CaseInsensitive) == 0;
        out += "\n" + name + ": " + (secret ? QByteArrayLiteral("<redacted>") : request.rawHeader(name));
    }
    return out;
}

QString HttpTransport::endpoint(const Request &request) const
{
    return QString::fromLatin1(request.verb) + u' ' + request.path.section(u'?', 0, 0);
}

int HttpTransport::writeDelayMs(const Request &request)
{
    if (m_config.minWriteIntervalMs <= 0 || request.verb == "GET")
        return 0;
    const qint64 now = m_clock.elapsed();
    const qint64 at = std::max(now, m_nextWriteAtMs);
    m_nextWriteAtMs = at + m_config.minWriteIntervalMs;
    return int(at - now);
}

void HttpTransport::send(const Request &request, QObject *context, std::function<void(Raw)> done)
{
    sendAttempt(request, context, std::move(done), 1);
}

void HttpTransport::sendOnce(
    const Request &request, QObject *context, std::function<void(Raw)> done, LookUp lookUp, const QString &description)
{
    Request once = request;
    once.retryTransient = false; // the outcome of a failed write is unknown: look it up first (below)
    sendOnceAttempt(once, QPointer<QObject>(context), std::move(done), std::move(lookUp), description, 1);
}

void HttpTransport::sendOnceAttempt(const Request &request, QPointer<QObject> context, std::function<void(Raw)> done,
    LookUp lookUp, const QString &description, int attempt)
{
    if (!context)
        return;
    sendAttempt(
        request, context.data(),
        [=, this](Raw raw) {
            const bool unknown = raw.error.outcomeUnknown();
            const bool neverArrived = raw.error.kind == ApiError::Kind::Network && !unknown; // refused, no such host
            if (!raw.error.isError() || !(unknown || neverArrived) || attempt >= m_config.maxAttempts) {
                done(std::move(raw));
                return;
            }
            if (neverArrived) {
                // It never reached the server: sending it again is safe without asking.
                QTimer::singleShot(std::chrono::milliseconds(retryDelayMs(-1, m_backoff.nextDelayMs())), context.data(),
                    [=, this] { sendOnceAttempt(request, context, done, lookUp, description, attempt + 1); });
                return;
            }
            // Did the failed attempt act? Ask before sending it again.
            qCInfo(lcHttp).noquote() << terminalSafe(description) << "- outcome unknown ("
                                     << terminalSafe(raw.error.message) << "); reconciling";
            QTimer::singleShot(
                std::chrono::milliseconds(retryDelayMs(-1, m_backoff.nextDelayMs())), context.data(), [=, this] {
                    lookUp([=, this](Found found) {
                        if (found == Found::Yes) {
                            qCInfo(lcHttp).noquote() << terminalSafe(description) << "had been done; not sent again";
                        } else if (found == Found::Unknown) {
                            qCInfo(lcHttp).noquote() << terminalSafe(description)
                                                     << "- could not find out whether it was done; not sent again";
                            done(raw);
                        } else {
                            sendOnceAttempt(request, context, done, lookUp, description, attempt + 1);
                        }
                    });
                });
        },
        attempt);
}

void HttpTransport::sendAttempt(const Request &request, QObject *context, std::function<void(Raw)> done, int attempt)
{
    QPointer<QObject> guard(context);
    if (const QString problem = pathProblem(request.path); !problem.isEmpty()) {
        Raw raw;
        raw.error.kind = ApiError::Kind::Invalid;
        raw.error.message = QStringLiteral("%1: %2").arg(terminalSafe(endpoint(request).left(200)), problem);
        QMetaObject::invokeMethod(
            this,
            [guard, done, raw] {
                if (guard)
                    done(raw);
            },
            Qt::QueuedConnection); // never from inside send()
        return;
    }
    if (const int wait = writeDelayMs(request); wait > 0) {
        // Paced: the server allows so many writes a second. The turn is kept; the attempt goes out when it comes.
        QTimer::singleShot(wait, this, [=, this] {
            if (guard)
                transferFor(request, guard, done, attempt);
        });
        return;
    }
    transferFor(request, guard, std::move(done), attempt);
}

void HttpTransport::transferFor(
    const Request &request, QPointer<QObject> guard, std::function<void(Raw)> done, int attempt)
{
    auto settleHere = [=, this](Raw raw) { settle(request, guard, done, attempt, std::move(raw)); };
    if (request.verb != "GET" && request.verb != "HEAD") {
        transferOnce(request, attempt, std::move(settleHere));
        return;
    }
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

QNetworkAccessManager *HttpTransport::networkThreadManager()
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

void HttpTransport::settle(
    const Request &request, QPointer<QObject> guard, std::function<void(Raw)> done, int attempt, Raw raw)
{
    Q_EMIT requestFinished(endpoint(request), raw.status, raw.error.message);
    if (!guard)
        return;
    const bool retryable = (request.retryTransient && raw.error.transient())
        || ((raw.status == 420 || raw.status == 429 || raw.status == 503) && raw.error.retryAfterSeconds >= 0);
    if (retryable && attempt < m_config.maxAttempts && raw.error.retryAfterSeconds <= m_config.maxRetryAfterSeconds) {
        const qint64 delay = retryDelayMs(raw.error.retryAfterSeconds, m_backoff.nextDelayMs());
        qCInfo(lcHttp).noquote() << terminalSafe(endpoint(request)) << "failed:" << terminalSafe(raw.error.message)
                                 << "- retrying in" << delay << "ms";
        QTimer::singleShot(std::chrono::milliseconds(delay), guard.data(),
            [=, this] { sendAttempt(request, guard.data(), done, attempt + 1); });
        return;
    }
    done(std::move(raw));
}

QNetworkRequest HttpTransport::prepare(const Request &request, int attempt) const
{
    QNetworkRequest r = networkRequest(m_config, request.path);
    r.setTransferTimeout(timeoutOf(request));
    r.setRawHeader("Accept", "application/json, application/problem+json");
    if (!request.body.isEmpty())
        r.setHeader(QNetworkRequest::ContentTypeHeader, request.contentType);
    if (!request.idempotencyKey.isEmpty())
        r.setRawHeader("Idempotency-Key", request.idempotencyKey.toLatin1());
    qCDebug(lcHttp).noquote() << "attempt" << attempt << describeForLog(r, request.verb);
    return r;
}

void HttpTransport::transfer(
    QNetworkAccessManager *nam, const Request &request, int attempt, std::function<void(Raw)> concluded)
{
    QNetworkReply *reply = nam->sendCustomRequest(prepare(request, attempt), request.verb, request.body);
    // Qt's transfer timeout is an inactivity timeout: a body trickling in a few bytes a second never trips it. The
    // deadline bounds the whole answer.
    auto *deadline = new QTimer(reply);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, reply, [reply] {
        reply->setProperty("fleetDeadline", true);
        reply->abort();
    });
    deadline->start(timeoutOf(request));
    new BodyReader(reply, limitOf(request), [=, this](QByteArray body) {
        reply->deleteLater();
        WireAnswer a;
        a.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        a.reasonPhrase = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
        a.retryAfter = reply->rawHeader("Retry-After");
        a.location = reply->rawHeader("Location");
        const QVariant length = reply->header(QNetworkRequest::ContentLengthHeader);
        a.contentLength = length.isValid() ? length.toLongLong() : -1;
        a.body = std::move(body);
        a.tooLarge = reply->property("fleetTooLarge").toBool();
        a.deadline = reply->property("fleetDeadline").toBool();
        if (a.status == 0) {
            a.networkError = reply->error();
            a.errorDetail = reply->errorString();
        }
        concluded(conclude(std::move(a), request));
    });
}

void HttpTransport::transferOnce(const Request &request, int attempt, std::function<void(Raw)> concluded)
{
    // A write: sent exactly once by libcurl (see WriteSender), never again behind our back.
    auto handle = std::make_shared<WriteSender::Handle>();
    *handle = WriteSender::send(m_config, prepare(request, attempt), request.verb, request.body, timeoutOf(request),
        limitOf(request), this, [this, request, handle, concluded = std::move(concluded)](WireAnswer a) {
            m_writes.removeOne(*handle);
            concluded(conclude(std::move(a), request));
        });
    m_writes.append(*handle);
}

HttpTransport::Raw HttpTransport::conclude(WireAnswer a, const Request &request) const
{
    Raw raw = [&] {
        Raw raw;
        raw.status = a.status;
        if (a.tooLarge) {
            raw.error.kind = ApiError::Kind::TooLarge;
            raw.error.message = QStringLiteral("%1: the answer is larger than the %2 MB limit; refused")
                                    .arg(endpoint(request))
                                    .arg(double(limitOf(request)) / (1024 * 1024), 0, 'g', 3);
            return raw;
        }
        if (a.deadline) {
            raw.error.kind = ApiError::Kind::Timeout;
            raw.error.message = QStringLiteral("%1: no complete answer within %2 s (%3 bytes received): the server is "
                                               "stalled or far too slow")
                                    .arg(endpoint(request))
                                    .arg(timeoutOf(request) / 1000)
                                    .arg(a.body.size());
            return raw;
        }
        if (a.status == 0) {
            raw.error = ApiError::fromNetwork(a.networkError, a.errorDetail);
            raw.error.message = QStringLiteral("%1: %2").arg(endpoint(request), raw.error.message);
            return raw;
        }
        raw.body = std::move(a.body);
        if (a.contentLength >= 0 && raw.body.size() < a.contentLength) {
            // Not a JSON problem: the connection ended before the answer did.
            raw.error.kind = ApiError::Kind::Network;
            raw.error.httpStatus = raw.status;
            raw.error.message = QStringLiteral("%1: the answer was cut short after %2 of %3 bytes")
                                    .arg(endpoint(request))
                                    .arg(raw.body.size())
                                    .arg(a.contentLength);
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
                                    .arg(describeRedirect(m_config, QUrl::fromEncoded(a.location)));
            raw.body.clear();
            return raw;
        }
        raw.error.httpStatus = raw.status;
        raw.error.retryAfterSeconds = parseRetryAfter(a.retryAfter);
        raw.error.kind = raw.status == 401 ? ApiError::Kind::Unauthorized
            : raw.status == 403            ? ApiError::Kind::Forbidden
                                           : ApiError::Kind::Http;
        m_describeError(raw.error, raw.body, a.reasonPhrase);
        raw.error.message = QStringLiteral("%1: %2").arg(endpoint(request), raw.error.message);
        return raw;
    }();
    // A server may repeat the credential it was sent (a 401 that quotes the key): it goes no further than here.
    const QString &secret = m_config.token;
    redact(raw.error.message, secret);
    if (raw.error.problem) {
        redact(raw.error.problem->title, secret);
        redact(raw.error.problem->detail, secret);
    }
    redact(raw.body, secret);
    return raw;
}

} // namespace fleet
