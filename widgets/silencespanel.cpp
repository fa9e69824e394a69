#include "silencespanel.h"

#include "fleetsession.h"
#include "mitigationsilences.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace fleet {

namespace {

constexpr int kKeyRole = Qt::UserRole + 1;

QString timeLeft(qint64 endsAtMs, qint64 nowMs)
{
    const QString until = QDateTime::fromMSecsSinceEpoch(endsAtMs, Qt::UTC).toString(QStringLiteral("HH:mm 'UTC'"));
    const qint64 s = (endsAtMs - nowMs) / 1000;
    if (s <= 0)
        return SilencesPanel::tr("%1 (ended)").arg(until);
    return SilencesPanel::tr("%1 (%2:%3:%4 left)")
        .arg(until)
        .arg(s / 3600)
        .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
        .arg(s % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

SilencesPanel::SilencesPanel(FleetSession *session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_header(new QLabel(this))
    , m_view(new QTreeWidget(this))
    , m_expire(new QPushButton(tr("&Expire now"), this))
{
    setObjectName(QStringLiteral("SilencesPanel"));
    m_header->setTextFormat(Qt::PlainText);
    m_header->setWordWrap(true);
    m_view->setObjectName(QStringLiteral("silences"));
    m_view->setRootIsDecorated(false);
    m_view->setUniformRowHeights(true);
    m_view->setColumnCount(ColumnCount);
    m_view->setHeaderLabels(
        { tr("State"), tr("Region"), tr("Ends"), tr("Operation"), tr("Why"), tr("Alertmanager id") });
    m_view->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->header()->setSectionResizeMode(WhyColumn, QHeaderView::Stretch);
    m_view->header()->setStretchLastSection(false);
    m_expire->setObjectName(QStringLiteral("expireSilence"));
    m_expire->setToolTip(tr("End the selected silence in Alertmanager now: the region's alerts page again"));
    auto *buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(m_expire);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_header);
    layout->addWidget(m_view, 1);
    layout->addLayout(buttons);

    connect(m_expire, &QPushButton::clicked, this, [this] {
        if (MitigationSilences *silences = m_session->silences(); silences && !selectedKey().isEmpty())
            silences->expire(selectedKey(), tr("expired from the console"));
    });
    connect(m_view, &QTreeWidget::itemSelectionChanged, this, &SilencesPanel::refresh);
    auto *clock = new QTimer(this);
    clock->setInterval(1000);
    connect(clock, &QTimer::timeout, this, &SilencesPanel::refresh); // the countdowns stay true
    clock->start();
    connect(session, &FleetSession::alertWatchChanged, this, &SilencesPanel::follow);
    follow();
}

void SilencesPanel::follow()
{
    if (MitigationSilences *silences = m_session->silences())
        connect(silences, &MitigationSilences::changed, this, &SilencesPanel::refresh, Qt::UniqueConnection);
    refresh();
}

QString SilencesPanel::selectedKey() const
{
    const QList<QTreeWidgetItem *> selected = m_view->selectedItems();
    return selected.isEmpty() ? QString() : selected.front()->data(StateColumn, kKeyRole).toString();
}

void SilencesPanel::refresh()
{
    const MitigationSilences *silences = m_session->silences();
    if (!silences) {
        m_header->setText(tr("No Alertmanager is configured: start the console with --alertmanager URL to silence a "
                             "region's alerts with a drain or a provision."));
        m_view->clear();
        m_expire->setEnabled(false);
        return;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QList<MitigationSilences::Silence> &all = silences->silences();
    int open = 0;
    for (const MitigationSilences::Silence &s : all)
        open += s.isOpen() ? 1 : 0;
    m_header->setText(tr("Silences made with a mitigation in %1: %2 open, %3 in all. A drain or provision offers one; "
                         "resuming the region expires it.")
                          .arg(silences->alertmanagerUrl())
                          .arg(open)
                          .arg(all.size()));
    const QString selected = selectedKey();
    // Newest first; rows are rebuilt only when their number changes, so a selection survives the clock.
    const QSignalBlocker block(m_view);
    if (m_view->topLevelItemCount() != all.size()) {
        m_view->clear();
        for (qsizetype i = 0; i < all.size(); ++i)
            m_view->addTopLevelItem(new QTreeWidgetItem);
    }
    for (qsizetype i = 0; i < all.size(); ++i) {
        const MitigationSilences::Silence &s = all.at(all.size() - 1 - i);
        QTreeWidgetItem *item = m_view->topLevelItem(int(i));
        item->setData(StateColumn, kKeyRole, s.key);
        item->setText(StateColumn, MitigationSilences::describe(s.state));
        item->setText(RegionColumn, s.region);
        item->setText(EndsColumn,
            s.state == MitigationSilences::State::Active || s.state == MitigationSilences::State::Unknown
                ? timeLeft(s.endsAtMs, now)
                : QString());
        item->setText(OperationColumn, s.operation);
        QString why = s.action;
        if (!s.reason.isEmpty())
            why += QStringLiteral(": ") + s.reason;
        if (!s.message.isEmpty())
            why += QStringLiteral(" (") + s.message + u')';
        item->setText(WhyColumn, why);
        item->setToolTip(WhyColumn, why);
        item->setText(IdColumn, s.id);
        if (s.key == selected)
            item->setSelected(true);
    }
    const MitigationSilences::Silence *current = nullptr;
    for (const MitigationSilences::Silence &s : all)
        if (s.key == selectedKey())
            current = &s;
    m_expire->setEnabled(current && current->isOpen());
}

} // namespace fleet
