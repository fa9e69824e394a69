#include "fleetconnection.h"

#include "eventstream.h"
#include "fleetclient.h"
#include "terminalsafe.h"

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcApi)

namespace fleet {

qint64 ConnectionStatus::monotonicNowMs()
{
    static QElapsedTimer clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return clock.elapsed() + 1; // never 0, which means "never"
}

QString wireName(ConnectionState state)
{
    switch (state) {
    case ConnectionState::Connecting:
        return QStringLiteral("connecting");
    case ConnectionState::Live:
        return QStringLiteral("live");
    case ConnectionState::Reconnecting:
        return QStringLiteral("reconnecting");
    case ConnectionState::Offline:
        break;
    }
    return QStringLiteral("offline");
}

FleetConnection::FleetConnection(ClientConfig config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_client(new FleetClient(config, this))
    , m_stream(new EventStream(config, this))
    , m_backoff(config.backoffBaseMs, config.backoffCapMs)
    , m_resyncBackoff(config.backoffBaseMs, config.backoffCapMs)
{
    m_status.insecure = config.insecure && config.baseUrl.scheme() == QLatin1String("https");
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &FleetConnection::fetchIdentity);

    connect(m_stream, &EventStream::connected, this, [this] {
        m_backoff.reset();
        m_status.attempt = 0;
        m_status.nextAttemptAtMs = 0;
        setState(ConnectionState::Live);
    });
    connect(
        m_stream, &EventStream::alive, this, [this] { m_status.lastByteAtMs = ConnectionStatus::monotonicNowMs(); });
    connect(m_stream, &EventStream::eventReceived, this, [this](const FleetEvent &event) {
        m_status.lastDataAtMs = ConnectionStatus::monotonicNowMs();
        m_resyncsInARow = 0; // the stream moved on: the last resync worked
        m_resyncBackoff.reset();
        Q_EMIT eventReceived(event);
    });
    connect(m_stream, &EventStream::disconnected, this,
        [this](const ApiError &error, int attempt, int retryInMs, bool fatal) {
            if (fatal) {
                m_running = false;
                setState(ConnectionState::Offline, error.message);
                return;
            }
            m_status.attempt = attempt;
            m_status.nextAttemptAtMs = ConnectionStatus::monotonicNowMs() + retryInMs;
            setState(ConnectionState::Reconnecting, error.message);
        });
    connect(m_stream, &EventStream::resyncRequired, this, [this](const QString &reason) {
        m_stream->stop();
        ++m_resyncsInARow;
        if (m_resyncsInARow == 1) {
            // One resync is routine (a long sleep, a restarted server): fetch the snapshot at once.
            qCInfo(lcApi).noquote() << "resynchronising:" << terminalSafe(reason);
            m_status.attempt = 0;
            m_status.nextAttemptAtMs = 0;
            setState(ConnectionState::Reconnecting, QStringLiteral("resynchronising: %1").arg(reason));
            fetchSnapshot();
            return;
        }
        // Again, with no event in between: the server cannot be followed from its snapshot. Refetching the whole
        // fleet at once would hammer a server already in trouble: back off as reconnects do, and say why.
        const int delay = m_resyncBackoff.nextDelayMs();
        qCWarning(lcApi).noquote() << "resyncing repeatedly (" << m_resyncsInARow
                                   << "in a row):" << terminalSafe(reason) << "- next snapshot in" << delay << "ms";
        m_status.attempt = m_resyncsInARow;
        m_status.nextAttemptAtMs = ConnectionStatus::monotonicNowMs() + delay;
        setState(ConnectionState::Reconnecting,
            QStringLiteral("resyncing repeatedly (%1 in a row): %2").arg(m_resyncsInARow).arg(reason));
        m_retry.stop();
        QTimer::singleShot(delay, this, [this, generation = ++m_resyncGeneration] {
            if (generation == m_resyncGeneration)
                fetchSnapshot();
        });
    });
}

FleetConnection::~FleetConnection() = default;

void FleetConnection::start()
{
    m_running = true;
    m_backoff.reset();
    m_resyncBackoff.reset();
    m_resyncsInARow = 0;
    m_status.attempt = 0;
    m_status.nextAttemptAtMs = 0;
    setState(ConnectionState::Connecting);
    fetchIdentity();
}

void FleetConnection::stop()
{
    m_running = false;
    ++m_resyncGeneration; // a delayed resync must not run after this
    ++m_previewRound; // nor a snapshot waiting for a regions preview
    m_retry.stop();
    m_stream->stop();
    setState(ConnectionState::Offline, QStringLiteral("disconnected by the user"));
}

void FleetConnection::setState(ConnectionState state, const QString &reason)
{
    const ConnectionStatus before = m_status;
    m_status.state = state;
    m_status.reason = state == ConnectionState::Live ? QString() : reason;
    if (!(before == m_status) || state == ConnectionState::Reconnecting)
        Q_EMIT statusChanged(m_status);
}

void FleetConnection::retryLater(const ApiError &error)
{
    if (!m_running)
        return;
    if (error.kind == ApiError::Kind::Unauthorized || error.kind == ApiError::Kind::Forbidden
        || error.kind == ApiError::Kind::Tls) {
        // Retrying cannot fix a token or a certificate: stop and say why.
        m_running = false;
        setState(ConnectionState::Offline, error.message);
        return;
    }
    const int delay = int(std::max<qint64>(
        m_backoff.nextDelayMs(), error.retryAfterSeconds > 0 ? clampRetryAfterMs(error.retryAfterSeconds) : 0));
    m_status.attempt = m_backoff.attempt();
    m_status.nextAttemptAtMs = ConnectionStatus::monotonicNowMs() + delay;
    setState(ConnectionState::Reconnecting, error.message);
    m_retry.start(delay);
}

void FleetConnection::fetchIdentity()
{
    if (!m_running)
        return;
    m_client->me(this, [this](ApiResult<Identity> result) {
        if (!result.ok())
            return retryLater(result.error());
        m_identity = result.value();
        Q_EMIT identityReceived(m_identity);
        if (m_snapshotSeen) {
            fetchSnapshot();
            return;
        }
        // The preview first, and the snapshot once it has answered (or after kPreviewWaitMs): a server that answers
        // one request at a time (fleet-sim) would otherwise encode the 20 MB snapshot before the few kilobytes of
        // regions. Against any server this costs one round trip on the snapshot.
        const quint64 round = ++m_previewRound;
        auto snapshotOnce = [this, round] {
            if (round != m_previewRound)
                return; // already asked for, or a newer attempt took over
            ++m_previewRound;
            fetchSnapshot();
        };
        fetchRegionsPreview(snapshotOnce);
        QTimer::singleShot(kPreviewWaitMs, this, snapshotOnce);
    });
}

void FleetConnection::fetchSnapshot()
{
    if (!m_running)
        return;
    m_client->snapshot(this, [this](ApiResult<Snapshot> result) {
        if (!m_running)
            return;
        if (!result.ok())
            return retryLater(result.error());
        m_status.lastDataAtMs = ConnectionStatus::monotonicNowMs();
        m_snapshotSeen = true;
        const qint64 sequence = result->sequence;
        Q_EMIT snapshotReceived(result.value());
        m_stream->start(sequence);
    });
}

void FleetConnection::fetchRegionsPreview(const std::function<void()> &then)
{
    m_client->regions(
        this,
        [this, then](ApiResult<Page<Region>> result) {
            then();
            if (!m_running || m_snapshotSeen)
                return; // the snapshot came first, or the user went: it says more
            if (!result.ok()) {
                // Only a preview: the snapshot request beside it reports what is wrong and retries.
                qCDebug(lcApi).noquote() << "regions preview:" << terminalSafe(result.error().message);
                return;
            }
            if (!result->nextCursor.isEmpty())
                return; // more regions than one page: the snapshot has them all, and the history plans on them
            Q_EMIT regionsPreviewed(result->items, m_identity.serverTime);
        },
        FleetClient::Retry::Never);
}

} // namespace fleet
