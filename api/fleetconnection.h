#pragma once

#include "apierror.h"
#include "backoff.h"
#include "clientconfig.h"
#include "fleettypes.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <functional>

namespace fleet {

class EventStream;
class FleetClient;

enum class ConnectionState { Connecting, Live, Reconnecting, Offline };

// What the connection honestly is now. Widgets and fleetctl show this; it never says Live when it is not.
struct ConnectionStatus
{
    ConnectionState state = ConnectionState::Offline;
    int attempt = 0; // reconnect attempt, from 1
    qint64 nextAttemptAtMs = 0; // on the monotonic clock of ConnectionStatus::monotonicNowMs(); 0 if none
    QString reason; // why not live, in words ("connection refused", "token not accepted", ...)
    qint64 lastDataAtMs = 0; // when the last snapshot or event arrived (monotonic); 0 if never
    qint64 lastByteAtMs = 0; // when anything (heartbeats too) arrived
    bool insecure = false; // TLS verification is off: say so loudly

    static qint64 monotonicNowMs();
    qint64 dataAgeMs() const { return lastDataAtMs ? monotonicNowMs() - lastDataAtMs : -1; }
    qint64 nextAttemptInMs() const
    {
        return nextAttemptAtMs ? std::max<qint64>(0, nextAttemptAtMs - monotonicNowMs()) : -1;
    }
    bool operator==(const ConnectionStatus &o) const
    {
        return state == o.state && attempt == o.attempt && reason == o.reason;
    }
};

QString wireName(ConnectionState state); // "connecting", "live", "reconnecting", "offline"

// The whole live feed: checks the token (/v1/me), fetches the snapshot, then follows the event stream from the
// snapshot's sequence; on a resync, refetches the snapshot and continues from its sequence, so that the consumer
// applies every change exactly once. Beside the first snapshot it asks for the regions alone (a few kilobytes where
// the snapshot is 20 MB at 50,000 workers), so the regions can be shown while the workers are still on the way.
// Reconnects by itself; stops (offline) only for what retrying cannot fix.
class FleetConnection : public QObject
{
    Q_OBJECT

public:
    explicit FleetConnection(ClientConfig config, QObject *parent = nullptr);
    ~FleetConnection() override;

    void start();
    void stop();
    const ConnectionStatus &status() const { return m_status; }
    FleetClient *client() const { return m_client; }
    const Identity &identity() const { return m_identity; }

Q_SIGNALS:
    void statusChanged(const fleet::ConnectionStatus &status);
    void identityReceived(const fleet::Identity &identity);
    // The full truth as of `snapshot.sequence`: replace local state with it. Deltas follow as events.
    void snapshotReceived(const fleet::Snapshot &snapshot);
    // The regions as the server described them at `serverTimeMs` (its clock, from /v1/me), before the first
    // snapshot of this connection: a preview to show, which the snapshot replaces. Never after a snapshot.
    void regionsPreviewed(const std::vector<fleet::Region> &regions, qint64 serverTimeMs);
    void eventReceived(const fleet::FleetEvent &event);

private:
    void fetchIdentity();
    void fetchSnapshot();
    void fetchRegionsPreview(const std::function<void()> &then);
    void retryLater(const ApiError &error);
    void setState(ConnectionState state, const QString &reason = {});

    ClientConfig m_config;
    FleetClient *m_client;
    EventStream *m_stream;
    ConnectionStatus m_status;
    Identity m_identity;
    Backoff m_backoff;
    Backoff m_resyncBackoff; // snapshots refetched for resyncs in a row
    int m_resyncsInARow = 0; // resyncs with no event applied in between
    quint64 m_resyncGeneration = 0; // a delayed resync runs only if nothing replaced it
    QTimer m_retry;
    bool m_running = false;
    bool m_snapshotSeen = false; // this connection has had a snapshot: no more previews
    quint64 m_previewRound = 0; // the snapshot waiting for a preview is asked for once
    static constexpr int kPreviewWaitMs = 300;
};

} // namespace fleet
