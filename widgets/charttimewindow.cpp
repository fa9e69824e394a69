#include "charttimewindow.h"

#include <QAction>
#include <QCoreApplication>
#include <QDateTime>

#include <algorithm>
#include <cmath>

namespace fleet {

const QList<int> &ChartTimeWindow::presetSpans()
{
    static const QList<int> s { 300, 3600, 6 * 3600, 24 * 3600 };
    return s;
}

ChartTimeWindow::ChartTimeWindow(QObject *parent)
    : QObject(parent)
{
    auto make = [this](const QString &text, const QKeySequence &key, auto slot) {
        auto *a = new QAction(text, this);
        a->setShortcut(key);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    m_actions.pauseOrResume
        = make(tr("&Pause or resume charts"), QKeySequence(Qt::Key_Space), [this] { togglePause(); });
    m_actions.backToLive = make(tr("&Back to live"), QKeySequence(Qt::Key_End), [this] { backToLive(); });
    m_actions.zoomIn = make(tr("Zoom &in"), QKeySequence(Qt::Key_Plus), [this] { zoomBy(0.5); });
    m_actions.zoomIn->setShortcuts({ QKeySequence(Qt::Key_Plus), QKeySequence(Qt::Key_Equal) });
    m_actions.zoomOut = make(tr("Zoom &out"), QKeySequence(Qt::Key_Minus), [this] { zoomBy(2.0); });
    m_actions.panBack = make(tr("Pan &back in time"), QKeySequence(Qt::Key_Left), [this] { panBy(-0.1); });
    m_actions.panForward = make(tr("Pan &forward in time"), QKeySequence(Qt::Key_Right), [this] { panBy(0.1); });
    const QList<int> &spans = presetSpans();
    for (int i = 0; i < spans.size(); ++i) {
        const int s = spans[i];
        m_actions.spans.append(
            make(tr("Last %1").arg(formatSpan(s)), QKeySequence(Qt::Key_1 + i), [this, s] { showLast(s); }));
    }
    updateActions();
}

void ChartTimeWindow::followTo(qint64 latestSecond)
{
    if (!m_follow)
        return;
    m_to = latestSecond > 0 ? latestSecond : QDateTime::currentSecsSinceEpoch();
    m_from = m_to - m_span + 1;
}

void ChartTimeWindow::showLast(int seconds)
{
    const int span = int(std::clamp<qint64>(seconds, kMinSpan, kMaxSpan));
    const bool spanChange = span != m_span;
    m_span = span;
    m_from = m_to - m_span + 1;
    setFollow(true);
    if (spanChange)
        Q_EMIT spanChanged(m_span);
    Q_EMIT windowChanged();
}

void ChartTimeWindow::setSpanSeconds(int seconds)
{
    if (m_follow) {
        showLast(seconds);
        return;
    }
    const int span = int(std::clamp<qint64>(seconds, kMinSpan, kMaxSpan));
    const bool spanChange = span != m_span;
    m_span = span;
    if (spanChange)
        Q_EMIT spanChanged(m_span);
    setWindow(m_to - m_span + 1, m_to); // keep the paused window's right edge
}

void ChartTimeWindow::setWindow(qint64 fromSecond, qint64 toSecond)
{
    if (toSecond < fromSecond)
        std::swap(fromSecond, toSecond);
    if (toSecond - fromSecond + 1 < kMinSpan) {
        const qint64 mid = (fromSecond + toSecond) / 2;
        fromSecond = mid - kMinSpan / 2;
        toSecond = fromSecond + kMinSpan - 1;
    }
    if (toSecond - fromSecond + 1 > kMaxSpan)
        fromSecond = toSecond - kMaxSpan + 1;
    m_from = fromSecond;
    m_to = toSecond;
    setFollow(false);
    Q_EMIT windowChanged();
}

void ChartTimeWindow::pause()
{
    if (!m_follow)
        return;
    setFollow(false);
    Q_EMIT windowChanged();
}

void ChartTimeWindow::backToLive()
{
    if (m_follow)
        return;
    m_from = m_to - m_span + 1;
    setFollow(true);
    Q_EMIT windowChanged();
}

void ChartTimeWindow::togglePause()
{
    if (m_follow)
        pause();
    else
        backToLive();
}

void ChartTimeWindow::zoomBy(double factor, double anchor)
{
    const double width = double(m_to - m_from + 1);
    const double newWidth = std::clamp(width * factor, double(kMinSpan), double(kMaxSpan));
    const double pivot = double(m_from) + width * std::clamp(anchor, 0.0, 1.0);
    const qint64 from = qint64(std::llround(pivot - newWidth * anchor));
    setWindow(from, from + qint64(newWidth) - 1);
}

void ChartTimeWindow::panBy(double fraction)
{
    const qint64 shift = qint64(std::llround(double(m_to - m_from + 1) * fraction));
    setWindow(m_from + shift, m_to + shift);
}

void ChartTimeWindow::setFollow(bool follow)
{
    if (m_follow == follow)
        return;
    m_follow = follow;
    updateActions();
    Q_EMIT followLiveChanged(follow);
}

void ChartTimeWindow::updateActions()
{
    m_actions.pauseOrResume->setText(m_follow ? tr("&Pause charts") : tr("&Resume charts (back to live)"));
}

QString formatSpan(qint64 seconds)
{
    if (seconds % 3600 == 0)
        return QCoreApplication::translate("fleet::HealthChart", "%1 h").arg(seconds / 3600);
    if (seconds >= 3600)
        return QCoreApplication::translate("fleet::HealthChart", "%1 h").arg(double(seconds) / 3600.0, 0, 'f', 1);
    if (seconds % 60 == 0)
        return QCoreApplication::translate("fleet::HealthChart", "%1 min").arg(seconds / 60);
    return QCoreApplication::translate("fleet::HealthChart", "%1 s").arg(seconds);
}

} // namespace fleet
