#pragma once

#include "healthmonitor.h"
#include "healthverdict.h"

#include "entitytable.h"

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

namespace fleet {

class FleetStore;

// One row per region: dispatch state, workers by state, build success rate, failures per minute by reason, packet
// loss, RTT p95, queue depth and wait, and a health verdict with its reason in words ("packet loss 31%,
// ETIMEDOUT 42/min"). The verdicts are the session's HealthMonitor's, so every view shows the same one.
class RegionModel : public EntityTableModel
{
    Q_OBJECT

public:
    enum Column {
        RegionColumn,
        VerdictColumn,
        ReasonColumn,
        DispatchColumn,
        WorkersColumn,
        SuccessColumn,
        PacketLossColumn,
        RttColumn,
        QueueColumn,
        ColumnCount
    };
    enum Role {
        IdRole = Qt::UserRole + 1,
        NameRole,
        ProviderRole,
        LocationRole,
        DispatchStateRole, // int: fleet::DispatchState
        DispatchReasonRole,
        IdleWorkersRole,
        BusyWorkersRole,
        OfflineWorkersRole,
        ProvisioningWorkersRole,
        DrainingWorkersRole,
        LiveWorkersRole, // all but terminated
        SuccessRateRole, // double 0..1, NaN with no finished builds in the window
        TimeoutsPerMinuteRole,
        FailuresPerMinuteRole, // QVariantMap reason -> per minute
        PacketLossRole, // mean over the window
        RttP95Role,
        QueueDepthRole,
        WaitP95Role,
        VerdictRole, // int: fleet::Verdict
        VerdictReasonRole,
        SeverityRole, // 3 down, 2 degraded, 1 no data, 0 healthy: sort descending for "worst first"
        // What the server sent for this region that could not be used, one "field: why" per line (a negative
        // count, an unknown dispatch state); empty when everything was readable.
        ServerNotesRole,
    };

    // With no monitor, the model keeps one of its own (a model used alone, as in a test).
    explicit RegionModel(FleetStore *store, HealthMonitor *monitor = nullptr, QObject *parent = nullptr);

    HealthMonitor *monitor() const { return m_monitor; }
    void setThresholds(const VerdictThresholds &thresholds); // the monitor's: every view of it changes

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Re-judges every region at the history's newest second (through the monitor); every row's numbers change.
    void evaluate();

private:
    void rowsChangedByMonitor();
    void signalRows();

    QPointer<FleetStore> m_store;
    QPointer<HealthMonitor> m_monitor;
    // The numbers move with every evaluation (each frame on a sped-up fleet): views hear of it at most every
    // kRowsSignalMs, at once when a verdict changed (a tile's colour, the worst-first order).
    static constexpr int kRowsSignalMs = 250;
    QElapsedTimer m_lastSignal;
    QTimer m_pendingSignal;
    bool m_verdictChanged = false;
};

} // namespace fleet
