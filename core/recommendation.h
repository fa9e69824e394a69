#pragma once

#include "fleetaction.h"
#include "fleettypes.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace fleet {

class FleetStore;
class HealthMonitor;

// What to provision elsewhere when a region is in trouble, computed from live data: how many workers of each
// architecture in the affected region are failing (offline without being drained, or failing builds with network
// errors) or degraded (packet loss or RTT past the verdict thresholds), and a split of replacements across the
// healthy, active regions with the most room that already run that architecture (two at least, so one region's
// trouble does not take every replacement; more only when two cannot hold them), split evenly. It never asks a region
// for more than its capacity left or its per-request limit; what does not fit is said in `notes`.
struct Recommendation
{
    struct Need
    {
        Arch arch = Arch::Amd64;
        int failing = 0;
        int degraded = 0;
        int total() const { return failing + degraded; }
    };
    struct Share
    {
        QString region;
        Arch arch = Arch::Amd64;
        int count = 0;
        int capacityLeft = 0; // in that region before this recommendation
    };

    QString region; // the affected one
    QString regionName;
    QList<Need> needs; // per architecture with anything failing or degraded
    QList<Share> shares;
    QStringList notes; // in words: shortfalls, why a region was left out
    QString suggestedReason; // "Replacing 31 failing or degraded workers in eu-central (packet loss 22%)"

    int failing() const;
    int degraded() const;
    int provisioned() const; // sum of shares
    bool isEmpty() const { return shares.isEmpty(); }
    QString summary() const; // one paragraph for fleetctl: the need, every share, the notes
    QString headline() const; // the need, where the replacements go and the notes, without the per-share list
    QList<FleetAction> actions(const QString &reason, qint64 expiresAt = 0) const;
};

// Thresholds a worker is judged by; the defaults follow the region verdict's (healthverdict.h).
struct WorkerJudgement
{
    double degradedPacketLoss = 0.05;
    double degradedRttMs = 400;
    int failingNetworkErrors = 3; // ETIMEDOUT + ECONNRESET + EHOSTUNREACH in the last 15 minutes
};

enum class WorkerCondition { Fine, Degraded, Failing, NotInService };
WorkerCondition judgeWorker(const Worker &worker, const WorkerJudgement &judgement = {});

// For `region`; with an empty `region`, the worst region that is not healthy (none: an empty recommendation
// whose notes say why).
Recommendation recommend(const FleetStore &store, const HealthMonitor &monitor, const QString &region = {},
    const WorkerJudgement &judgement = {});

// Workers a region can still take: max_workers minus every worker not terminated.
int capacityLeft(const Region &region);

} // namespace fleet
