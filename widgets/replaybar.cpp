#include "replaybar.h"

#include "incidentreplay.h"

#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QShortcut>
#include <QSlider>
#include <QStyle>
#include <QToolButton>

namespace fleet {

namespace {

QString hhmmss(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("HH:mm:ss"));
}

} // namespace

ReplayBar::ReplayBar(IncidentReplay *replay, QWidget *parent)
    : QWidget(parent)
    , m_replay(replay)
{
    setObjectName(QStringLiteral("replayBar"));
    setAutoFillBackground(true);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    m_badge = new QLabel(tr("REPLAY"), this);
    m_badge->setAccessibleName(tr("This window plays a recorded incident, not a live fleet"));
    // Amber, like nothing else in the console: a replay must never pass for live data.
    m_badge->setStyleSheet(QStringLiteral("QLabel { background: #b26a00; color: white; font-weight: bold; padding: 2px "
                                          "10px; border-radius: 3px; }"));
    m_title = new QLabel(this);
    m_title->setTextFormat(Qt::PlainText); // the bundle's title is the file's: text, never markup
    m_title->setMinimumWidth(fontMetrics().averageCharWidth() * 20);
    m_position = new QLabel(this);
    m_position->setTextFormat(Qt::PlainText);
    m_position->setAccessibleName(tr("Replay time"));
    QFont bold = m_position->font();
    bold.setBold(true);
    m_position->setFont(bold);
    m_play = new QToolButton(this);
    m_play->setAccessibleName(tr("Play or pause the replay"));
    m_play->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_speed = new QComboBox(this);
    m_speed->setAccessibleName(tr("Replay speed"));
    for (const int x : { 1, 2, 5, 10, 30, 60 })
        m_speed->addItem(tr("%1x").arg(x), x);
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setAccessibleName(tr("Replay position"));
    m_slider->setRange(0, int(std::max<qint64>(1, (replay->toMs() - replay->fromMs()) / 1000)));
    m_slider->setPageStep(300);
    m_slider->setSingleStep(10);
    layout->addWidget(m_badge);
    layout->addWidget(m_title);
    layout->addWidget(m_position);
    layout->addWidget(m_play);
    layout->addWidget(m_speed);
    layout->addWidget(m_slider, 1);

    connect(m_play, &QToolButton::clicked, this, [this] {
        if (m_replay->isPlaying())
            m_replay->pause();
        else
            m_replay->play();
    });
    auto *space = new QShortcut(QKeySequence(Qt::Key_Space), this, nullptr, nullptr, Qt::WidgetWithChildrenShortcut);
    connect(space, &QShortcut::activated, m_play, &QToolButton::click);
    connect(m_speed, &QComboBox::activated, this,
        [this](int index) { m_replay->setSpeed(m_speed->itemData(index).toDouble()); });
    connect(m_slider, &QSlider::sliderPressed, this, [this] { m_dragging = true; });
    connect(m_slider, &QSlider::sliderReleased, this, [this] {
        m_dragging = false;
        m_replay->seek(m_replay->fromMs() + qint64(m_slider->value()) * 1000);
    });
    // Keys and clicks on the groove move at once; a drag moves when it is let go (a rebuild per pixel is wasted).
    connect(m_slider, &QSlider::actionTriggered, this, [this](int action) {
        if (action != QAbstractSlider::SliderMove)
            QMetaObject::invokeMethod(
                this, [this] { m_replay->seek(m_replay->fromMs() + qint64(m_slider->value()) * 1000); },
                Qt::QueuedConnection);
    });
    connect(replay, &IncidentReplay::positionChanged, this, &ReplayBar::refresh);
    connect(replay, &IncidentReplay::stateChanged, this, &ReplayBar::refresh);
    refresh();
}

QString ReplayBar::text() const
{
    return QStringLiteral("%1 %2 %3 %4").arg(m_badge->text(), m_title->text(), m_position->text(), m_play->text());
}

void ReplayBar::refresh()
{
    const bundle::Header &h = m_replay->header();
    // The file's name (the title, which may be long, is the tooltip): what a person opened.
    m_title->setText(
        tr("%1 · %2 to %3 UTC")
            .arg(fontMetrics().elidedText(m_replay->name(), Qt::ElideMiddle, fontMetrics().averageCharWidth() * 32),
                hhmmss(m_replay->fromMs()), hhmmss(m_replay->toMs())));
    // A bundle is a file from anywhere: its title is text in the tooltip too, never markup.
    const QString tip = tr("%1\n%2\nfrom %3, recorded by %4")
                            .arg(m_replay->name(), h.title, h.fleet, h.recordedBy.isEmpty() ? tr("?") : h.recordedBy);
    m_title->setToolTip(
        QStringLiteral("<p>") + tip.toHtmlEscaped().replace(u'\n', QStringLiteral("<br>")) + QStringLiteral("</p>"));
    const QString day
        = QDateTime::fromMSecsSinceEpoch(m_replay->positionMs(), Qt::UTC).toString(QStringLiteral("d MMM yyyy"));
    m_position->setText(tr("%1 UTC, %2").arg(hhmmss(m_replay->positionMs()), day));
    const bool playing = m_replay->isPlaying();
    m_play->setText(m_replay->isAtEnd() ? tr("Play again") : playing ? tr("Pause") : tr("Play"));
    m_play->setIcon(style()->standardIcon(playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    const int speed = m_speed->findData(int(m_replay->speed()));
    if (speed >= 0 && speed != m_speed->currentIndex())
        m_speed->setCurrentIndex(speed);
    if (!m_dragging)
        m_slider->setValue(int((m_replay->positionMs() - m_replay->fromMs()) / 1000));
}

} // namespace fleet
