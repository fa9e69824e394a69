#include "eventstream.h"

#include "terminalsafe.h"
#include "wiredecode.h"

#include <QElapsedTimer>

#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <algorithm>

Q_LOGGING_CATEGORY(lcSse, "fleet.sse", QtInfoMsg)

namespace fleet {

EventStream::EventStream(ClientConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_nam(new QNetworkAccessManager(this))
    , m_decoder(std::make_unique<WireDecoder>())
    , m_backoff(m_config.backoffBaseMs, m_config.backoffCapMs)
    , m_heartbeatMs(m_config.defaultHeartbeatMs)
{
    m_nam->setAutoDeleteReplies(false);
    m_watchdog.setSingleShot(true);
    connect(&m_watchdog, &QTimer::timeout, this, &EventStream::onWatchdog);
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &EventStream::connectNow);
}

EventStream::~EventStream()
{
    if (m_reply)
        m_reply->abort();
}

void EventStream::start(qint64 afterEventId)
{
    stop();
    m_running = true;
    m_lastId = afterEventId;
    m_parser.setLastEventId(QString::number(afterEventId));
    m_backoff.reset();
    connectNow();
}

void EventStream::stop()
{
    m_running = false;
    m_connected = false;
    dropPending();
    m_retryTimer.stop();
    m_watchdog.stop();
    if (m_reply) {
        QNetworkReply *reply = m_reply;
        m_reply = nullptr;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
}

void EventStream::connectNow()
{
    if (!m_running)
        return;
    QNetworkRequest request = networkRequest(m_config, QStringLiteral("/v1/events"));
    request.setRawHeader("Accept", "text/event-stream");
    request.setRawHeader("Cache-Control", "no-cache");
    request.setRawHeader("Last-Event-ID", QByteArray::number(m_lastId));
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    // No transfer timeout: the stream is meant to stay open. Liveness is the watchdog's job.
    m_parser.reset();
    dropPending(); // not delivered yet: the server sends them again after Last-Event-ID
    m_sawLife = false;
    m_resyncing = false;
    m_parser.setLimits(SseParser::kDefaultMaxLineBytes, SseParser::kDefaultMaxEventBytes);
    m_reply = m_nam->get(request);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, [this] {
        const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        bool beatOk = false;
        const qint64 beat = m_reply->rawHeader("X-Heartbeat-Interval-Ms").trimmed().toLongLong(&beatOk);
        // Whatever the server says, the dead-stream check stays between 1 s and 5 min.
        m_heartbeatMs = beatOk && beat > 0 ? clampHeartbeatMs(beat) : m_config.defaultHeartbeatMs;
        const QString type = m_reply->header(QNetworkRequest::ContentTypeHeader).toString();
        if (status == 200 && type.startsWith(QLatin1String("text/event-stream"))) {
            // Connected, but not yet known to be live: that takes a valid event or heartbeat (see drainPending).
            m_connected = true;
            m_announced = false;
            m_watchdog.start(2 * m_heartbeatMs);
            return;
        }
        if (status == 401 || status == 403 || status >= 400)
            return; // onFinished says why, with the body the server sent
        // WHATWG EventSource: anything but a 200 with text/event-stream fails the connection at once.
        ApiError error;
        error.kind = ApiError::Kind::Http;
        error.httpStatus = status;
        if (status >= 300 && status < 400)
            error.message = QStringLiteral("event stream: HTTP %1: %2")
                                .arg(status)
                                .arg(describeRedirect(m_config, QUrl::fromEncoded(m_reply->rawHeader("Location"))));
        else
            error.message = QStringLiteral("the server answered the event stream with HTTP %1 and %2 instead of "
                                           "text/event-stream: not a Fleet API event stream (a proxy or a captive "
                                           "portal in between?)")
                                .arg(status)
                                .arg(type.isEmpty() ? QStringLiteral("no content type")
                                                    : QStringLiteral("\"%1\"").arg(type.left(80)));
        abandon(error);
    });
    connect(m_reply, &QNetworkReply::readyRead, this, &EventStream::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &EventStream::onFinished);
    // Until headers arrive, the same watchdog bounds the connection attempt.
    m_watchdog.start(2 * m_heartbeatMs);
}

void EventStream::onReadyRead()
{
    if (!m_reply || !m_connected)
        return;
    // Parsed a slice at a time in drainPending(): a read can hold megabytes when this thread fell behind.
    if (m_unparsed.isEmpty())
        m_unparsed = m_reply->readAll();
    else
        m_unparsed += m_reply->readAll();
    // Bytes alone are not life (a line that never ends is bytes too): the watchdog is fed by complete events and
    // heartbeats, in parseSome().
    drainPending();
}

void EventStream::abandon(const ApiError &error)
{
    if (!m_reply)
        return;
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    reply->disconnect(this);
    reply->abort();
    reply->deleteLater();
    m_connected = false;
    m_watchdog.stop();
    dropPending();
    fail(error, false);
}

void EventStream::dropPending()
{
    m_pending.clear();
    m_unparsed.clear();
    m_unparsedAt = 0;
}

bool EventStream::parseSome()
{
    if (m_unparsedAt >= m_unparsed.size())
        return false;
    constexpr qsizetype kChunk = 64 * 1024;
    const qsizetype n = std::min(kChunk, m_unparsed.size() - m_unparsedAt);
    SseParser::Output out;
    m_parser.feed(QByteArrayView(m_unparsed).sliced(m_unparsedAt, n), &out);
    m_unparsedAt += n;
    if (m_unparsedAt >= m_unparsed.size()) {
        m_unparsed.clear();
        m_unparsedAt = 0;
    }
    if (out.retryMs)
        m_backoff.setBaseMs(std::clamp(*out.retryMs, 100, m_config.backoffCapMs));
    if (!out.error.isEmpty()) {
        ApiError error;
        error.kind = ApiError::Kind::Decode;
        error.message = out.error;
        m_parseError = error;
        return false;
    }
    if (!out.events.empty() || out.comments > 0) {
        // Proof of life: a complete event or a heartbeat.
        m_sawLife = true;
        m_watchdog.start(2 * m_heartbeatMs);
        Q_EMIT alive();
    }
    for (SseParser::Event &e : out.events)
        m_pending.push_back(std::move(e));
    return true;
}

void EventStream::drainPending()
{
    // Decode and deliver in slices of a few milliseconds: a burst of thousands of events (a fast fleet, a resumed
    // stream) must not hold the GUI thread for longer than a frame. The rest follows on the next turn of the loop.
    m_drainQueued = false;
    QElapsedTimer slice;
    slice.start();
    m_parseError.reset();
    while (!m_pending.empty() || parseSome()) {
        if (m_pending.empty())
            continue; // that chunk held no complete event
        if (m_resyncing || !m_running) {
            dropPending();
            return;
        }
        if (slice.nsecsElapsed() > 4'000'000) {
            if (!m_drainQueued) {
                m_drainQueued = true;
                QMetaObject::invokeMethod(this, &EventStream::drainPending, Qt::QueuedConnection);
            }
            return;
        }
        const SseParser::Event e = std::move(m_pending.front());
        m_pending.pop_front();
        bool numeric = false;
        const qint64 id = e.lastEventId.toLongLong(&numeric);
        if (e.type == QLatin1String("resync")) {
            auto decoded = m_decoder->event(id, e.type, e.data);
            m_lastId = numeric ? id : m_lastId;
            m_resyncing = true;
            dropPending();
            Q_EMIT resyncRequired(decoded.ok() ? QStringLiteral("the server no longer holds the events after %1 (%2)")
                                                     .arg(m_lastId)
                                                     .arg(std::get<Resync>(decoded.value().payload).reason)
                                               : QStringLiteral("the server asked for a resync"));
            return;
        }
        if (!numeric || id != m_lastId + 1) {
            // Ids are consecutive: a jump means events were lost between us and the server.
            m_resyncing = true;
            dropPending();
            const QString shown = e.lastEventId.left(40);
            Q_EMIT resyncRequired(!numeric
                    ? QStringLiteral("event id \"%1\" after %2 is not a number").arg(shown).arg(m_lastId)
                    : id == m_lastId ? QStringLiteral("event %1 arrived twice").arg(id)
                    : id < m_lastId  ? QStringLiteral("event ids went back from %1 to %2").arg(m_lastId).arg(id)
                                     : QStringLiteral("event ids jumped from %1 to %2").arg(m_lastId).arg(id));
            return;
        }
        auto decoded = m_decoder->event(id, e.type, e.data);
        if (!decoded.ok()) {
            qCWarning(lcSse).noquote() << "undecodable event:" << terminalSafe(decoded.error());
            m_resyncing = true;
            dropPending();
            Q_EMIT resyncRequired(QStringLiteral("an event could not be read: %1").arg(decoded.error()));
            return;
        }
        m_lastId = id;
        Q_EMIT eventReceived(decoded.value());
    }
    if (m_parseError) {
        const ApiError error = *m_parseError;
        m_parseError.reset();
        return abandon(error); // drop the connection with the reason; reconnect with backoff
    }
    if (m_sawLife && !m_announced && !m_resyncing && m_running && m_connected) {
        // A valid event or heartbeat arrived and did not ask for a resync: now it is live.
        m_announced = true;
        m_backoff.reset();
        qCInfo(lcSse) << "connected, resuming after event" << m_lastId;
        Q_EMIT connected();
    }
}

void EventStream::onFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    m_reply = nullptr;
    reply->deleteLater();
    const bool wasConnected = m_connected;
    m_connected = false;
    m_watchdog.stop();
    if (!m_running)
        return;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    ApiError error;
    if (status == 401 || status == 403) {
        error.kind = status == 401 ? ApiError::Kind::Unauthorized : ApiError::Kind::Forbidden;
        error.httpStatus = status;
        error.message = status == 401 ? QStringLiteral("the server did not accept the token (401)")
                                      : QStringLiteral("this token may not read events (403)");
        return fail(error, true);
    }
    if (status >= 400 || (status == 200 && !wasConnected)) {
        error.kind = ApiError::Kind::Http;
        error.httpStatus = status;
        bool numeric = false;
        const qint64 retryAfter = reply->rawHeader("Retry-After").trimmed().toLongLong(&numeric);
        error.retryAfterSeconds = numeric ? int(std::clamp<qint64>(retryAfter, 0, 86400)) : -1;
        error.message = status == 200 ? QStringLiteral("the server did not answer with an event stream")
                                      : QStringLiteral("the event stream was refused with HTTP %1").arg(status);
        return fail(error, false);
    }
    if (reply->error() != QNetworkReply::NoError && reply->error() != QNetworkReply::RemoteHostClosedError)
        error = ApiError::fromNetwork(reply->error(), reply->errorString());
    else {
        error.kind = ApiError::Kind::Network;
        error.message = QStringLiteral("the server closed the event stream");
    }
    fail(error, false);
}

void EventStream::onWatchdog()
{
    if (!m_reply)
        return;
    ApiError error;
    error.kind = ApiError::Kind::Timeout;
    error.message = m_connected
        ? QStringLiteral("no data or heartbeat for %1 s: connection presumed dead").arg(2 * m_heartbeatMs / 1000.0)
        : QStringLiteral("connection timed out");
    abandon(error);
}

void EventStream::fail(const ApiError &error, bool fatal)
{
    if (fatal) {
        m_running = false;
        qCWarning(lcSse).noquote() << "stopped:" << terminalSafe(error.message);
        Q_EMIT disconnected(error, m_backoff.attempt(), -1, true);
        return;
    }
    const qint64 retryAfterMs = error.retryAfterSeconds > 0 ? clampRetryAfterMs(error.retryAfterSeconds) : 0;
    const int delay = int(std::max<qint64>(m_backoff.nextDelayMs(), retryAfterMs));
    qCInfo(lcSse).noquote() << QStringLiteral("%1 - reconnecting in %2 ms (attempt %3)")
                                   .arg(terminalSafe(error.message))
                                   .arg(delay)
                                   .arg(m_backoff.attempt());
    m_retryTimer.start(delay);
    Q_EMIT disconnected(error, m_backoff.attempt(), delay, false);
}

} // namespace fleet
