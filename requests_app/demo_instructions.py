"""The demo year of meetings, protocols and protocol instructions: ``seed_instructions``.

A step of ``manage.py seed_demo`` (after the requests). Over the year before today it
records the council's sessions (``figures_2023``: 13 open sessions, 4 regular and 9
extraordinary), about 40 meetings of the six standing commissions (some of them field
visits in a district) and about 8 hearings of a department's report, each with its protocol
and numbered agenda items; about 150 protocol instructions come out of those protocols.
Then the departments report, the controllers accept or return, extensions are asked and
decided, and a few instructions are removed from control — every step through the same
service functions the pages and the API call, so histories, notifications and due dates are
the real ones. The meetings of the coming month (the plan the public portal shows) are
recorded too, without a protocol yet.

How the year is replayed: every instruction is given a *fate* (executed on time, after a
return or an extension; executed late; reported and awaiting a decision; returned; on
control, overdue or not; removed from control) and a timeline of dated actions that leads
there; the actions of all instructions, meetings and protocols then run in chronological
order while ``django.utils.timezone.now`` returns the simulated moment — the clock and the
in-app-only ``notify`` of ``requests_app.demo`` (the requests step), patched the same way.
Every action falls before today's midnight, so two runs on the same day give the same year.
Randomness comes from ``context.rng("instructions")`` only; each instruction draws its
timeline from a generator seeded from it, so forcing a missing fate onto one instruction
changes nothing else.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from maslikhat.accounts.models import User
from maslikhat.core.deadlines import WorkingCalendar, add_months, calendar_for, get_rule
from maslikhat.core.items import ItemType
from maslikhat.core.notifications import Notification
from maslikhat.directory.demo import DemoContext, read_reference_data
from maslikhat.directory.models import Commission, Department, Deputy

from . import instruction_services as services
from .demo import NOTIFICATIONS_UNREAD_DAYS, SimulatedClock, _in_app_only
from .instruction_services import INSTRUCTION_RULE
from .models import (
    Extension,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
    ReportPeriod,
    SessionKind,
)

# --- Volume ---------------------------------------------------------------------------------
#
#: ``--scale`` beyond this does not add meetings or instructions (see ``Year.__init__``).
MAX_SCALE = 4

# One demo year; ``context.scale`` multiplies it (up to ``MAX_SCALE``). The sessions come from
# ``figures_2023`` in the reference data (the defaults below are used when it has none).
# Tests make a smaller year by monkeypatching these constants.

COMMISSION_MEETINGS = 40
HEARINGS = 8
INSTRUCTIONS = 150
DEFAULT_REGULAR_SESSIONS = 4
DEFAULT_EXTRAORDINARY_SESSIONS = 9
FIELD_VISIT_SHARE = 0.35
PERIODIC_SHARE = 0.25
MONTHLY_SHARE = 0.65  # of the periodic ones; the others report quarterly
CO_EXECUTOR_SHARE = 0.4
CONTROLLER_DEPUTY_SHARE = 0.3
STAFF_DECIDES_SHARE = 0.55  # reports decided by staff; the others by the controller
CHAIR_DECIDES_EXTENSION_SHARE = 0.3
MESSAGE_SHARE = 0.3
UPCOMING_SESSIONS = (2, 3)
UPCOMING_COMMISSION_MEETINGS = (3, 5)
UPCOMING_DAYS = 30

DAYS_IN_YEAR = 365
#: The most recent held meeting is at least this many days before today (its protocol
#: takes a few working days), and the last session is at most 20 days old (so some
#: instructions are still running, not yet due).
RECENT_MEETING_DAYS = 5
LAST_SESSION_WITHIN_DAYS = 20

SESSION_HALL = "Зал сессий маслихата города Алматы, пл. Республики, 4"
COMMISSION_ROOM = "Маслихат города Алматы, зал заседаний постоянных комиссий"
DISTRICT = "district"  # in Topic.lead / Topic.co: the akimat of the district in question

# --- Content --------------------------------------------------------------------------------
#
# Placeholders: {year} {year2} (year + 2) {prev_year} {season} (heating season) {district}
# {district_gen} {district_loc} ("в … районе") {n} {n2} {pct}.


@dataclass(frozen=True)
class Topic:
    """A question the council deals with: who leads, who controls, what is instructed."""

    code: str
    commission: str
    lead: str  # a department code, or DISTRICT
    question: str
    tasks: tuple[str, ...]
    done: str  # what the final report says was done
    co: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()  # where it happens (any district when empty)
    places: tuple[tuple[str, str], ...] = ()  # field-visit sites: (district code, address)
    session: bool = False  # fit for a session's agenda
    hearing: bool = True  # fit for a hearing of the lead department's report
    months: tuple[int, ...] = ()  # on the agenda in these months only (any month when empty)


TOPICS: tuple[Topic, ...] = (
    # Commission on economy, finance, assets, public administration and public safety.
    Topic(
        code="budget_amendment",
        commission="economy",
        lead="finance",
        co=("economy",),
        session=True,
        hearing=False,
        question="О внесении изменений и дополнений в решение маслихата города Алматы "
        "«О бюджете города Алматы на {year}–{year2} годы»",
        tasks=(
            "Представить в постоянную комиссию пояснительную записку о перераспределении "
            "средств между бюджетными программами с обоснованием каждого изменения",
            "Обеспечить освоение средств, дополнительно выделенных администраторам бюджетных "
            "программ, и ежемесячно информировать комиссию о ходе их освоения",
            "Провести анализ неосвоенных бюджетных средств и внести предложения по их "
            "перераспределению на строительство и ремонт социальных объектов",
        ),
        done="средства перераспределены, освоение по уточнённым программам составило {pct}%",
    ),
    Topic(
        code="budget_execution",
        commission="economy",
        lead="finance",
        co=("economy", "assets"),
        session=True,
        hearing=False,
        question="Об утверждении отчёта об исполнении бюджета города Алматы за {prev_year} год",
        tasks=(
            "Представить перечень бюджетных программ с уровнем исполнения ниже 95% "
            "с указанием причин неисполнения и ответственных администраторов",
            "Принять меры по сокращению дебиторской задолженности администраторов бюджетных "
            "программ и представить информацию в постоянную комиссию",
        ),
        done="перечень представлен, по {n} программам приняты меры по ускорению исполнения",
    ),
    Topic(
        code="public_safety",
        commission="economy",
        lead="akim-office",
        co=(DISTRICT,),
        session=True,
        question="О мерах по обеспечению общественной безопасности и профилактике "
        "правонарушений в местах массового отдыха",
        tasks=(
            "Обеспечить установку камер видеонаблюдения в парках и скверах {district_gen} "
            "и их подключение к Центру оперативного управления",
            "Проработать вопрос освещения пешеходных переходов и остановок общественного "
            "транспорта, отнесённых к очагам дорожно-транспортных происшествий",
        ),
        done="установлено {n} камер видеонаблюдения, освещено {n2} пешеходных переходов",
        places=(("almaly", "пешеходная зона ул. Панфилова"),),
    ),
    Topic(
        code="assets",
        commission="economy",
        lead="assets",
        co=("economy",),
        question="Об эффективности управления коммунальным имуществом и ходе приватизации "
        "объектов коммунальной собственности",
        tasks=(
            "Провести инвентаризацию пустующих объектов коммунальной собственности и внести "
            "предложения по их передаче под социальные нужды",
            "Представить информацию о поступлениях в бюджет от аренды и приватизации "
            "коммунального имущества с разбивкой по объектам",
        ),
        done="инвентаризация проведена, выявлено {n} неиспользуемых объектов, по ним "
        "подготовлены предложения",
    ),
    Topic(
        code="digital",
        commission="economy",
        lead="digital",
        co=("akim-office",),
        question="О развитии системы «Открытый Алматы» и цифровизации городских услуг",
        tasks=(
            "Обеспечить публикацию на портале «Открытый Алматы» сведений о сроках и ходе "
            "ремонтных работ на улично-дорожной сети",
            "Проработать интеграцию обращений граждан из e-Otinish с системой учёта "
            "депутатских запросов маслихата",
        ),
        done="сервис запущен, опубликованы сведения по {n} объектам",
    ),
    # Commission on construction, architecture, urbanism and land relations.
    Topic(
        code="schools_alatau",
        commission="construction",
        lead="construction",
        co=("education", "alatau"),
        districts=("alatau",),
        session=True,
        question="О ходе строительства общеобразовательных школ в Алатауском районе",
        tasks=(
            "Обеспечить ввод в эксплуатацию школы на 1500 ученических мест в мкр. Алгабас "
            "до начала учебного года и представить график работ подрядчика",
            "Принять меры к подрядной организации, допустившей отставание от графика "
            "строительства школы в мкр. Шанырак-2, включая претензионную работу",
            "Совместно с Управлением образования представить расчёт потребности в ученических "
            "местах в Алатауском районе на {year}–{year2} годы",
        ),
        done="строительно-монтажные работы выполнены на {pct}%, график подрядчика утверждён "
        "и направлен в комиссию",
        places=(
            ("alatau", "мкр. Алгабас, строительная площадка школы на 1500 мест"),
            ("alatau", "мкр. Шанырак-2, ул. Жанкожа батыра, строящаяся школа"),
        ),
    ),
    Topic(
        code="landslides",
        commission="construction",
        lead="architecture",
        co=("medeu", "land"),
        districts=("medeu",),
        session=True,
        question="Об оползневых процессах на склонах Кок-Тобе и контроле строительства "
        "в предгорной зоне",
        tasks=(
            "Провести инженерно-геологическое обследование оползнеопасных склонов Кок-Тобе "
            "и представить перечень жилых домов в зоне риска",
            "Приостановить выдачу разрешений на строительство на оползнеопасных участках "
            "до завершения обследования и представить сведения о ранее выданных разрешениях",
            "Разработать комплекс противооползневых мероприятий (подпорные стены, дренаж, "
            "ливнеотвод) с расчётом стоимости и сроков",
        ),
        done="обследование выполнено, в зоне риска выявлено {n} домов, противооползневые "
        "мероприятия включены в план",
        places=(
            ("medeu", "мкр. Кок-Тобе, ул. Омарова, оползневой участок"),
            ("medeu", "склон Кок-Тобе над ул. Весновка"),
        ),
    ),
    Topic(
        code="housing_queue",
        commission="construction",
        lead="housing",
        co=(DISTRICT,),
        session=True,
        question="О предоставлении жилья из коммунального жилищного фонда очередникам, "
        "в том числе социально уязвимым категориям",
        tasks=(
            "Представить сведения о численности очередников по категориям и сроках "
            "предоставления им жилья",
            "Обеспечить заселение арендного жилья без права выкупа в течение месяца после "
            "ввода домов в эксплуатацию",
        ),
        done="жильё предоставлено {n} семьям из очереди, сведения по категориям направлены "
        "в комиссию",
    ),
    Topic(
        code="land_inventory",
        commission="construction",
        lead="land",
        co=("architecture", DISTRICT),
        question="Об изъятии неиспользуемых земельных участков и их возврате "
        "в государственную собственность",
        tasks=(
            "Провести инвентаризацию земельных участков, не используемых по целевому "
            "назначению более двух лет, и направить материалы в суд",
            "Зарезервировать высвобождаемые земельные участки {district_gen} под строительство "
            "школ, поликлиник и скверов",
        ),
        done="выявлено {n} неиспользуемых участков, по {n2} поданы иски об изъятии",
    ),
    Topic(
        code="detailed_plan",
        commission="construction",
        lead="architecture",
        co=("land", "nauryzbay"),
        districts=("nauryzbay",),
        question="О проекте детальной планировки микрорайонов Наурызбайского района",
        tasks=(
            "Доработать проект детальной планировки мкр. Калкаман и Таусамалы с учётом "
            "общественных слушаний и резервирования участков под социальные объекты",
            "Представить информацию о соблюдении красных линий при застройке мкр. Шугыла",
        ),
        done="проект доработан с учётом {n} замечаний, высказанных на общественных слушаниях",
        places=(
            ("nauryzbay", "мкр. Калкаман, территория перспективной застройки"),
            ("nauryzbay", "мкр. Шугыла, ул. Жуалы"),
        ),
    ),
    # Commission on municipal infrastructure, energy, water supply and urban mobility.
    Topic(
        code="heating_season",
        commission="infrastructure",
        lead="energy",
        co=(DISTRICT,),
        session=True,
        months=(5, 6, 7, 8, 9, 10),
        question="О готовности объектов энергетики и жилищно-коммунального хозяйства "
        "к отопительному сезону {season} годов",
        tasks=(
            "Обеспечить завершение ремонта магистральных и квартальных тепловых сетей до начала "
            "отопительного сезона и представить перечень незавершённых участков",
            "Совместно с акиматами районов проверить готовность многоквартирных домов "
            "к отопительному сезону и принять меры по устранению выявленных нарушений",
            "Представить информацию о замене изношенных участков тепловых сетей "
            "{district_loc} с указанием сроков и источников финансирования",
        ),
        done="паспорта готовности получены на {pct}% объектов, отремонтировано {n} км "
        "тепловых сетей",
        places=(("auezov", "квартальная котельная, мкр. Аксай-3"),),
    ),
    Topic(
        code="transport_routes",
        commission="infrastructure",
        lead="mobility",
        co=("akim-office",),
        session=True,
        question="Об оптимизации маршрутной сети общественного транспорта",
        tasks=(
            "Провести обследование пассажиропотока и представить предложения по оптимизации "
            "дублирующих автобусных маршрутов",
            "Обеспечить открытие маршрутов в мкр. Алгабас, Шугыла и Акжар с интервалом "
            "движения в часы пик не более 15 минут",
            "Рассмотреть выделение полос для общественного транспорта на пр. Райымбека "
            "и ул. Толе би",
        ),
        done="оптимизировано {n} маршрутов, открыто {n2} новых, интервалы в часы пик сокращены",
        places=(("alatau", "конечная остановка автобусов, мкр. Алгабас"),),
    ),
    Topic(
        code="snow_removal",
        commission="infrastructure",
        lead=DISTRICT,
        co=("mobility", "energy"),
        months=(10, 11, 12, 1, 2),
        question="О подготовке к зимнему содержанию улично-дорожной сети и уборке снега",
        tasks=(
            "Обеспечить готовность снегоуборочной техники и запасов противогололёдных "
            "материалов, представить график уборки улиц {district_gen}",
            "Принять меры по своевременной уборке снега с тротуаров, остановок и подходов "
            "к школам и поликлиникам {district_gen}",
        ),
        done="подготовлено {n} единиц техники, график уборки улиц утверждён и выполняется",
    ),
    Topic(
        code="water_supply",
        commission="infrastructure",
        lead="energy",
        co=("alatau", "nauryzbay"),
        districts=("alatau", "nauryzbay"),
        question="О водоснабжении и водоотведении в микрорайонах Алатауского "
        "и Наурызбайского районов",
        tasks=(
            "Представить график строительства сетей водоснабжения и канализации "
            "в мкр. Алгабас, Шанырак и Акжар",
            "Принять меры по обеспечению жителей {district_gen} питьевой водой до завершения "
            "строительства сетей",
        ),
        done="построено {n} км сетей водоснабжения, к сетям подключено {n2}0 домов",
        places=(
            ("alatau", "мкр. Шанырак-2, насосная станция"),
            ("nauryzbay", "мкр. Акжар, ул. Даулеткерея"),
        ),
    ),
    Topic(
        code="yards",
        commission="infrastructure",
        lead=DISTRICT,
        co=("energy",),
        months=(3, 4, 5, 6, 7, 8, 9, 10),
        question="О ходе благоустройства дворовых территорий многоквартирных домов",
        tasks=(
            "Завершить благоустройство дворов {district_gen}, включённых в план текущего года, "
            "и представить перечень выполненных работ с фотоматериалами",
            "Обеспечить установку детских и спортивных площадок с учётом доступности "
            "для маломобильных граждан {district_loc}",
        ),
        done="благоустроено {n} дворов, установлено {n2} детских площадок",
        places=(
            ("almaly", "двор в квартале ул. Айтеке би — ул. Байзакова"),
            ("zhetysu", "мкр. Кулагер, дворовая территория"),
        ),
    ),
    Topic(
        code="gasification",
        commission="infrastructure",
        lead="energy",
        co=("turksib", "alatau"),
        districts=("turksib", "alatau"),
        question="О газификации частного жилого сектора",
        tasks=(
            "Представить график газификации частного сектора {district_gen} и перечень улиц, "
            "не подключённых к газу",
        ),
        done="газифицировано {n}0 домовладений, перечень улиц на следующий год утверждён",
        places=(("turksib", "мкр. Кайрат, частный сектор"),),
    ),
    # Commission on entrepreneurship, investment, tourism and ecology.
    Topic(
        code="green_medeu",
        commission="business",
        lead="ecology",
        co=("medeu", "green"),
        districts=("medeu",),
        session=True,
        question="О сохранении и развитии зелёных зон Медеуского района",
        tasks=(
            "Провести инвентаризацию зелёных насаждений Медеуского района и представить данные "
            "о вырубке и компенсационной посадке за текущий год",
            "Обеспечить восстановление поливной арычной сети вдоль пр. Достык и ул. Кунаева",
            "Не допускать изменения целевого назначения земель зелёных зон предгорной "
            "территории; представить перечень поступивших заявок",
        ),
        done="инвентаризация завершена, высажено {n}0 деревьев в порядке компенсационной посадки",
        places=(
            ("medeu", "предгорная зелёная зона, урочище Медеу"),
            ("medeu", "пр. Достык — ул. Кунаева, зелёная зона"),
        ),
    ),
    Topic(
        code="air_quality",
        commission="business",
        lead="ecology",
        co=("energy", "green"),
        session=True,
        months=(9, 10, 11, 12, 1, 2, 3),
        question="О мерах по снижению загрязнения атмосферного воздуха в отопительный период",
        tasks=(
            "Представить информацию о ходе перевода ТЭЦ-2 на газ и сроках завершения работ",
            "Расширить сеть постов мониторинга качества воздуха и обеспечить публикацию "
            "данных в открытом доступе",
        ),
        done="установлено {n} новых постов мониторинга, данные публикуются в открытом доступе",
    ),
    Topic(
        code="mountain_tourism",
        commission="business",
        lead="tourism",
        co=("medeu", "ecology"),
        districts=("medeu",),
        question="О развитии горного туризма и туристической инфраструктуры в предгорной зоне",
        tasks=(
            "Представить план обустройства туристических троп и санитарной инфраструктуры "
            "в ущельях Медеуского района",
            "Проработать организацию общественного транспорта к горнолыжным курортам "
            "в выходные дни",
        ),
        done="обустроено {n} км туристических троп, установлено {n2} санитарных модулей",
        places=(("medeu", "ущелье Медеу, туристический маршрут"),),
    ),
    Topic(
        code="sme_support",
        commission="business",
        lead="business",
        co=("economy",),
        question="О реализации программ поддержки малого и среднего предпринимательства",
        tasks=(
            "Представить сведения о субсидированных проектах и созданных рабочих местах "
            "в разрезе районов",
            "Упростить порядок размещения нестационарных торговых объектов и представить "
            "проект правил",
        ),
        done="поддержано {n}0 проектов, создано {n2}0 рабочих мест",
    ),
    # Commission on social development, culture, sport, religion and youth.
    Topic(
        code="youth_centres",
        commission="social",
        lead="youth",
        co=(DISTRICT,),
        question="О работе молодёжных ресурсных центров и вовлечении молодёжи в общественную жизнь",
        tasks=(
            "Открыть молодёжный ресурсный центр {district_loc} и представить план его работы",
            "Представить данные о молодёжи, которая не учится и не работает (NEET), и мерах "
            "по её вовлечению в обучение и занятость",
        ),
        done="центр открыт, мероприятиями охвачено {n}00 человек",
    ),
    Topic(
        code="sport_grounds",
        commission="social",
        lead="sport",
        co=("construction", DISTRICT),
        question="О строительстве и содержании спортивных площадок и доступности секций для детей",
        tasks=(
            "Обеспечить ремонт дворовых спортивных площадок {district_gen} и закрепить их "
            "содержание за балансодержателями",
            "Представить информацию о бесплатных спортивных секциях для детей "
            "из малообеспеченных семей",
        ),
        done="отремонтировано {n} спортивных площадок, в бесплатные секции принято {n2}0 детей",
        places=(("bostandyk", "мкр. Орбита-3, дворовая спортивная площадка"),),
    ),
    Topic(
        code="heritage",
        commission="social",
        lead="culture",
        co=("architecture",),
        question="О состоянии объектов историко-культурного наследия местного значения",
        tasks=(
            "Представить перечень памятников истории и культуры, требующих реставрации, "
            "с оценкой стоимости работ",
            "Установить информационные таблички на объектах историко-культурного наследия",
        ),
        done="реставрационные работы начаты на {n} объектах, установлено {n2}0 табличек",
        places=(("medeu", "парк имени 28 гвардейцев-панфиловцев"),),
    ),
    Topic(
        code="civil_society",
        commission="social",
        lead="public-dev",
        co=("religion",),
        question="О взаимодействии с общественными советами и неправительственными организациями",
        tasks=(
            "Обеспечить размещение государственного социального заказа с учётом предложений "
            "общественного совета города",
            "Представить отчёт о реализации проектов НПО, финансируемых из местного бюджета",
        ),
        done="размещено {n} проектов государственного социального заказа",
    ),
    # Commission on health, education and employment.
    Topic(
        code="polyclinics",
        commission="health",
        lead="health",
        co=("construction", "nauryzbay"),
        districts=("nauryzbay",),
        session=True,
        question="О доступности первичной медико-санитарной помощи и строительстве поликлиник "
        "в новых микрорайонах",
        tasks=(
            "Обеспечить завершение строительства поликлиники в мкр. Шугыла и её "
            "укомплектование врачами общей практики",
            "Представить меры по сокращению очередей на приём к узким специалистам "
            "и развитию онлайн-записи",
        ),
        done="поликлиника введена в эксплуатацию, укомплектованность кадрами {pct}%",
        places=(("nauryzbay", "мкр. Шугыла, строящаяся поликлиника на 500 посещений"),),
    ),
    Topic(
        code="school_shifts",
        commission="health",
        lead="education",
        co=("construction", DISTRICT),
        session=True,
        question="О дефиците ученических мест и ликвидации трёхсменного обучения",
        tasks=(
            "Представить перечень школ с трёхсменным обучением и план ликвидации третьей смены",
            "Проработать размещение государственного образовательного заказа в частных "
            "школах {district_gen}",
        ),
        done="третья смена ликвидирована в {n} школах, размещён госзаказ на {n2}00 мест",
    ),
    Topic(
        code="youth_employment",
        commission="health",
        lead="social",
        co=("youth", "business"),
        question="О трудоустройстве молодёжи и выпускников в рамках программы "
        "«Молодёжная практика»",
        tasks=(
            "Представить сведения о трудоустройстве участников программы «Молодёжная практика» "
            "после её завершения",
            "Расширить перечень работодателей — участников программы, в том числе в новых "
            "микрорайонах",
        ),
        done="трудоустроено {n}0 выпускников, к программе присоединились {n2} работодателей",
    ),
    Topic(
        code="kindergartens",
        commission="health",
        lead="education",
        co=(DISTRICT,),
        question="О размещении государственного заказа в дошкольных организациях "
        "и очерёдности в детские сады",
        tasks=(
            "Представить данные об очереди в детские сады {district_gen} и мерах по её сокращению",
        ),
        done="очередь в детские сады сокращена на {n}0 детей",
        places=(("alatau", "мкр. Айгерим-1, строящийся детский сад"),),
    ),
)

FINAL_REPORTS = (
    "Во исполнение поручения {number} протокола № {protocol} от {date} сообщаем: {done}. "
    "Подтверждающие материалы прилагаются.",
    "По поручению {number} (протокол № {protocol} от {date}): {done}. Просим снять "
    "поручение с контроля.",
    "Информация об исполнении поручения {number} протокола № {protocol}: {done}. Работа "
    "продолжается в рамках текущей деятельности.",
)
REPORTS_AFTER_RETURN = (
    "Дополнительно к ранее направленной информации по поручению {number}: {done}. "
    "Прилагаются акты выполненных работ, фотоматериалы и график на следующий период.",
    "Направляем доработанную информацию по поручению {number} протокола № {protocol}: "
    "{done}; объёмы и сроки работ приведены по каждому объекту.",
)
PERIODIC_REPORTS = (
    "Информация за {period} по поручению {number}: {progress}.",
    "Промежуточная информация по поручению {number} за {period}: {progress}. Итоговый "
    "отчёт будет представлен в установленный срок.",
)
INTERIM_REPORTS = (
    "Промежуточная информация по поручению {number}: {progress}.",
    "О ходе исполнения поручения {number} протокола № {protocol}: {progress}.",
)
CO_EXECUTOR_REPORTS = (
    "{department}: мероприятия в пределах компетенции выполнены, сведения направлены "
    "головному исполнителю.",
    "{department}, по своей части поручения: {progress}.",
)
PROGRESS = (
    "работы выполняются по графику, выполнено около {pct}% запланированного объёма",
    "проведены подготовительные мероприятия, заключён договор с подрядной организацией",
    "разработана проектно-сметная документация, она проходит государственную экспертизу",
    "проведено совещание с акиматами районов, утверждён план мероприятий",
    "выполнено {pct}% мероприятий плана, отставание по {n} объектам связано с поставкой материалов",
)
ACCEPT_COMMENTS = (
    "",
    "",
    "Информация принята. Снять с контроля как исполненное.",
    "Исполнено. Комиссия отмечает своевременное представление отчёта.",
    "Принято; результаты рассмотреть на заседании комиссии в рамках мониторинга.",
)
RETURN_COMMENTS = (
    "Отчёт носит формальный характер: не указаны конкретные объёмы и сроки выполненных "
    "работ. Просим доработать.",
    "Не приложены подтверждающие документы (акты выполненных работ, фотоматериалы).",
    "Информация дана не по существу поручения: не отражены принятые меры. Доработать "
    "и представить повторно.",
    "Не представлены сведения по каждому району, указанному в поручении.",
    "Сроки завершения работ не подтверждены графиком подрядчика. Просим уточнить.",
)
EXTENSION_REASONS = (
    "Срыв сроков поставки оборудования подрядчиком; работы будут завершены после поставки.",
    "Требуется корректировка проектно-сметной документации и повторная государственная экспертиза.",
    "Конкурс по государственным закупкам признан несостоявшимся, объявлен повторный конкурс.",
    "Неблагоприятные погодные условия не позволили завершить работы в срок.",
    "Для завершения работ необходимо выделение дополнительных средств при уточнении бюджета.",
)
EXTENSION_APPROVALS = (
    "",
    "Продлить до указанного срока; промежуточную информацию представить через две недели.",
    "Согласовано с председателем постоянной комиссии.",
)
EXTENSION_REJECTIONS = (
    "Оснований для продления не усматривается: причины задержки не подтверждены документально.",
    "Срок установлен протоколом; продление не согласовано, отчёт представить в установленный срок.",
    "Продление отклонено: работы по поручению не начаты.",
)
REMOVAL_REASONS = (
    "Вопрос утратил актуальность в связи с изменением бюджетной программы.",
    "Поручение поглощено поручением сессии маслихата по тому же вопросу.",
    "Исполнение передано в компетенцию республиканского органа.",
    "Исполнено в ходе выездного заседания постоянной комиссии; отдельный отчёт не требуется.",
)
CONTROLLER_QUESTIONS = (
    "Просим уточнить сроки завершения работ и перечень объектов, по которым есть отставание.",
    "Жители обращаются повторно. Просим сообщить, какие меры приняты на сегодняшний день.",
    "Прошу приложить к отчёту фотоматериалы и акты выполненных работ.",
    "Комиссия планирует выездное заседание по этому вопросу; просим подготовить информацию "
    "и обеспечить участие ответственного руководителя.",
)
DEPARTMENT_REPLIES = (
    "Уточнённый график работ будет приложен к отчёту. Вопрос на личном контроле руководителя.",
    "Работы ведутся, подрядчик усилен дополнительной техникой. Информацию направим до конца "
    "недели.",
    "Фотоматериалы и акты будут приложены к итоговому отчёту.",
    "Ответственный руководитель примет участие в заседании комиссии.",
)
OVERDUE_REMINDERS = (
    "Срок исполнения поручения истёк. Просим в течение трёх рабочих дней представить отчёт "
    "об исполнении либо обоснование причин неисполнения.",
    "Напоминаем: поручение находится на контроле постоянной комиссии, отчёт не представлен. "
    "Вопрос будет рассмотрен на ближайшем заседании комиссии.",
)
OVERDUE_REPLIES = (
    "Отчёт на согласовании у руководителя, будет направлен в ближайшее время.",
    "Исполнение задерживается из-за повторного конкурса по госзакупкам; направим запрос "
    "на продление срока.",
)
MONTHS = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)


def roman(number: int) -> str:
    """1 → I, 36 → XXXVI (sessions and convocations are numbered in Roman numerals)."""
    parts = []
    for value, letters in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        count, number = divmod(number, value)
        parts.append(letters * count)
    return "".join(parts)


def _genitive_head(name: str) -> str:
    """The genitive of a body's name: «Управление финансов» → «Управления финансов»."""
    first, _sep, rest = name.partition(" ")
    if first.endswith("ие"):
        first = first[:-2] + "ия"
    elif first.endswith("ия"):
        first = first[:-1] + "и"
    elif first[-1:] not in "аяоеьй":
        first += "а"
    return f"{first} {rest}".strip()


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --- Fates ----------------------------------------------------------------------------------

EXECUTED = "executed"
EXECUTED_AFTER_RETURN = "executed_after_return"
EXECUTED_EXTENDED = "executed_extended"
LATE = "late"
LATE_EXTENSION_REJECTED = "late_extension_rejected"
LATE_AFTER_RETURN = "late_after_return"
REPORTED = "reported"
RETURNED = "returned"
ON_CONTROL = "on_control"
ON_CONTROL_EXTENSION_PENDING = "on_control_extension_pending"
OVERDUE = "overdue"
OVERDUE_EXTENSION_PENDING = "overdue_extension_pending"
REMOVED = "removed"
REMOVED_AFTER_REPORT = "removed_after_report"

#: Weights of the fates of an instruction whose due date has passed.
PAST_DUE_WEIGHTS = {
    EXECUTED: 34,
    EXECUTED_AFTER_RETURN: 8,
    EXECUTED_EXTENDED: 8,
    LATE: 10,
    LATE_EXTENSION_REJECTED: 3,
    LATE_AFTER_RETURN: 4,
    REPORTED: 5,
    RETURNED: 4,
    OVERDUE: 8,
    OVERDUE_EXTENSION_PENDING: 2,
    REMOVED: 5,
    REMOVED_AFTER_REPORT: 2,
}
#: … and of one still running (due today or later).
RUNNING_WEIGHTS = {
    ON_CONTROL: 45,
    ON_CONTROL_EXTENSION_PENDING: 4,
    EXECUTED: 18,
    EXECUTED_AFTER_RETURN: 3,
    REPORTED: 10,
    RETURNED: 6,
    REMOVED: 4,
    REMOVED_AFTER_REPORT: 1,
}
#: What a fate falls back to when its timeline does not fit the instruction's dates.
FALLBACK = {
    EXECUTED_AFTER_RETURN: EXECUTED,
    EXECUTED_EXTENDED: EXECUTED,
    LATE_EXTENSION_REJECTED: LATE,
    LATE_AFTER_RETURN: LATE,
    LATE: EXECUTED,
    RETURNED: REPORTED,
    REMOVED_AFTER_REPORT: REMOVED,
    ON_CONTROL_EXTENSION_PENDING: ON_CONTROL,
    OVERDUE_EXTENSION_PENDING: OVERDUE,
}
#: Fates the year must show, most important first: each is forced onto an instruction
#: whose own fate is shared with others, when none drew it.
REQUIRED_FATES = (
    ON_CONTROL,
    OVERDUE,
    REPORTED,
    RETURNED,
    EXECUTED,
    LATE,
    REMOVED,
    EXECUTED_AFTER_RETURN,
    EXECUTED_EXTENDED,
    LATE_EXTENSION_REJECTED,
    OVERDUE_EXTENSION_PENDING,
    REMOVED_AFTER_REPORT,
)


class Infeasible(Exception):
    """The fate's timeline does not fit between the instruction's dates and today."""


# --- Plans ----------------------------------------------------------------------------------


@dataclass
class MeetingPlan:
    kind: str
    date: dt.date
    title: str
    items: list[tuple[str, Topic]]  # the agenda: (question, topic)
    location: str
    session_kind: str = ""
    commission: Commission | None = None
    department: Department | None = None
    is_field_visit: bool = False
    district: str = ""  # of a field visit
    protocol_number: str = ""
    protocol_day: dt.date | None = None  # when staff record the protocol; None: upcoming
    weight: float = 1.0  # its share of the year's instructions
    instructions: list[InstructionPlan] = field(default_factory=list)
    meeting: Meeting | None = None


@dataclass
class Action:
    day: dt.date
    kind: str  # interim, final, accept, return, ask, decide, remove, message
    user: User
    text: str = ""
    approve: bool = False
    new_due: dt.date | None = None


@dataclass
class InstructionPlan:
    index: int
    meeting: MeetingPlan
    item_number: int
    number: str
    text: str
    topic: Topic
    lead: Department
    co: list[Department]
    commission: Commission
    deputy: Deputy | None
    due: dt.date
    period: str
    seed: int
    fields: dict[str, Any]
    fate: str = ""
    actions: list[Action] = field(default_factory=list)
    pk: int | None = None
    extension: Extension | None = None


# --- The year -------------------------------------------------------------------------------


class InstructionYear:
    """Plans and replays one demo year of meetings and protocol instructions."""

    def __init__(self, context: DemoContext) -> None:
        self.context = context
        self.rng = context.rng("instructions")
        # Instructions go through the services one by one; a benchmark's volume is in
        # the requests (bulk-loaded), so the council's year grows at most fourfold.
        self.scale = max(1, min(context.scale, MAX_SCALE))
        self.tz = timezone.get_default_timezone()
        self.today = timezone.localdate()
        self.last_day = self.today - dt.timedelta(days=1)
        self.horizon = dt.datetime.combine(self.today, dt.time(0), tzinfo=self.tz)
        self.start = self.today - dt.timedelta(days=DAYS_IN_YEAR)
        self.calendar: WorkingCalendar = calendar_for(
            self.start, self.today + dt.timedelta(days=UPCOMING_DAYS + 120)
        )
        self.clock = SimulatedClock(self.horizon)
        self.extension_rule = get_rule(INSTRUCTION_RULE)

        directory = context.directory
        reference = directory.reference
        self.staff = directory.staff
        self.chair = directory.chair
        self.heads = directory.heads
        self.executors = directory.executors
        self.convocation = reference.convocation
        self.departments: dict[str, Department] = {
            code: department
            for code, department in sorted(reference.departments.items())
            if department.is_active and code in self.heads and code in self.executors
        }
        self.districts = dict(sorted(reference.districts.items()))
        self.commissions: dict[str, Commission] = {
            c.code: c
            for c in Commission.objects.filter(convocation=self.convocation)
            .select_related("chair__user")
            .order_by("order", "code")
        }
        members: dict[int, list[Deputy]] = {}
        for deputy in (
            Deputy.objects.filter(convocation=self.convocation, is_active=True)
            .select_related("user")
            .prefetch_related("commissions")
            .order_by("pk")
        ):
            for commission in deputy.commissions.all():
                members.setdefault(commission.pk, []).append(deputy)
        self.members = members
        self.topics = [
            t
            for t in TOPICS
            if t.commission in self.commissions
            and (t.lead == DISTRICT or t.lead in self.departments)
        ]
        data = read_reference_data()
        figures = data.get("figures_2023") or {}
        self.regular_sessions = int(figures.get("regular_sessions", DEFAULT_REGULAR_SESSIONS))
        self.extraordinary_sessions = int(
            figures.get("extraordinary_sessions", DEFAULT_EXTRAORDINARY_SESSIONS)
        )

    # --- Time -----------------------------------------------------------------------------

    def at(self, day: dt.date, hour: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)

    def pick(self, rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
        """A day in ``lo``..``hi``, a working day when there is one; Infeasible when empty."""
        if hi < lo:
            raise Infeasible
        days = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
        working = [day for day in days if self.calendar.is_working_day(day)]
        return rng.choice(working or days)

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        while not self.calendar.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def spread(self, count: int, lo: dt.date, hi: dt.date) -> list[dt.date]:
        """``count`` dates over ``lo``..``hi``, one in each of ``count`` equal slots."""
        span = (hi - lo).days + 1
        dates = []
        for i in range(count):
            a = lo + dt.timedelta(days=span * i // count)
            b = lo + dt.timedelta(days=max(span * (i + 1) // count - 1, span * i // count))
            dates.append(self.pick(self.rng, a, b))
        return dates

    # --- Meetings -------------------------------------------------------------------------

    def years_since_election(self, day: dt.date) -> float:
        elected = self.convocation.elected_on
        return max(0.0, (day - elected).days / 365.25) if elected else 0.0

    def fields_for(self, day: dt.date, district: str = "") -> dict[str, Any]:
        season_start = day.year if day.month >= 4 else day.year - 1
        values: dict[str, Any] = {
            "year": day.year,
            "year2": day.year + 2,
            "prev_year": day.year - 1,
            "season": f"{season_start}–{season_start + 1}",
        }
        if district and district in self.districts:
            name = self.districts[district].name_ru
            stem = name.removesuffix("ий район")
            values["district"] = name
            values["district_gen"] = f"{stem}ого района" if stem != name else name
            values["district_loc"] = f"в {stem}ом районе" if stem != name else f"в районе {name}"
        return values

    def topics_on(self, day: dt.date) -> list[Topic]:
        """The topics in season on ``day`` (snow in winter, the heating season in summer)."""
        return [t for t in self.topics if not t.months or day.month in t.months]

    def question(self, topic: Topic, day: dt.date) -> str:
        return topic.question.format_map(self.fields_for(day))

    def commission_genitive(self, commission: Commission) -> str:
        """«Комиссия по экономике…» → «комиссии по экономике…»."""
        name = commission.name_ru
        if name.startswith("Комиссия"):
            return "комиссии" + name.removeprefix("Комиссия")
        return name

    def plan_sessions(self, lo: dt.date, hi: dt.date) -> list[MeetingPlan]:
        rng = self.rng
        regular = self.regular_sessions * self.scale
        count = regular + self.extraordinary_sessions * self.scale
        if count == 0:
            return []
        dates = self.spread(count, lo, hi)
        # The last session is recent: some of its instructions are still running.
        dates[-1] = self.pick(rng, max(dates[-1], hi - dt.timedelta(LAST_SESSION_WITHIN_DAYS)), hi)
        regular_positions = {int((k + 0.5) * count / regular) for k in range(regular)}
        before = round(
            self.years_since_election(lo) * (self.regular_sessions + self.extraordinary_sessions)
        )
        amendment = next((t for t in self.topics if t.code == "budget_amendment"), None)
        plans = []
        for i, day in enumerate(sorted(dates)):
            is_regular = i in regular_positions
            session_topics = [t for t in self.topics_on(day) if t.session]
            if is_regular:
                topics = rng.sample(session_topics, min(rng.randint(3, 5), len(session_topics)))
            else:
                others = [t for t in session_topics if t is not amendment]
                topics = rng.sample(others, min(rng.randint(1, 2), len(others)))
                if amendment is not None and rng.random() < 0.7:
                    topics.insert(0, amendment)
                elif others:
                    extra = [t for t in others if t not in topics]
                    if extra:
                        topics.append(rng.choice(extra))
            plans.append(self.session(before + i + 1, day, is_regular, topics))
        return plans

    def session(
        self, number: int, day: dt.date, is_regular: bool, topics: Sequence[Topic]
    ) -> MeetingPlan:
        convocation = roman(self.convocation.number)
        kind = "" if is_regular else " (внеочередная)"
        return MeetingPlan(
            kind=MeetingKind.SESSION,
            session_kind=SessionKind.REGULAR if is_regular else SessionKind.EXTRAORDINARY,
            date=day,
            title=f"{roman(number)}{kind} сессия маслихата города Алматы {convocation} созыва",
            items=[(self.question(t, day), t) for t in topics],
            location=SESSION_HALL,
            protocol_number=str(number),
            weight=3.0 if is_regular else 2.0,
        )

    def commission_meeting(
        self, commission: Commission, day: dt.date, *, field_visit: bool, max_items: int = 4
    ) -> MeetingPlan:
        rng = self.rng
        own = [t for t in self.topics_on(day) if t.commission == commission.code]
        with_places = [t for t in own if t.places]
        genitive = self.commission_genitive(commission)
        district = ""
        location = COMMISSION_ROOM
        first: list[Topic] = []
        if field_visit and with_places:
            topic = rng.choice(with_places)
            district, address = rng.choice(topic.places)
            place = self.districts[district].name_ru if district in self.districts else ""
            location = f"{place}, {address}" if place else address
            first = [topic]
        else:
            field_visit = False
        rest = [t for t in own if t not in first]
        wanted = max(2, rng.randint(2, max_items)) - len(first)
        topics = first + rng.sample(rest, min(wanted, len(rest)))
        title = f"{'Выездное заседание' if field_visit else 'Заседание'} постоянной {genitive}"
        return MeetingPlan(
            kind=MeetingKind.COMMISSION,
            date=day,
            title=title[:300],
            items=[(self.question(t, day), t) for t in topics],
            location=location,
            commission=commission,
            is_field_visit=field_visit,
            district=district,
        )

    def plan_commission_meetings(self, lo: dt.date, hi: dt.date) -> list[MeetingPlan]:
        rng = self.rng
        count = COMMISSION_MEETINGS * self.scale
        commissions = list(self.commissions.values())
        if not count or not commissions:
            return []
        order = [commissions[i % len(commissions)] for i in range(count)]
        rng.shuffle(order)
        return [
            self.commission_meeting(commission, day, field_visit=rng.random() < FIELD_VISIT_SHARE)
            for commission, day in zip(order, self.spread(count, lo, hi), strict=True)
        ]

    def plan_hearings(self, lo: dt.date, hi: dt.date) -> list[MeetingPlan]:
        rng = self.rng
        count = HEARINGS * self.scale
        if not count:
            return []
        heard: Counter[str] = Counter()  # each department's report is heard in turn
        plans = []
        for day in self.spread(count, lo, hi):
            fit = [t for t in self.topics_on(day) if t.hearing and t.lead != DISTRICT]
            if not fit:
                continue
            fewest = min(heard[t.code] for t in fit)
            topic = rng.choice([t for t in fit if heard[t.code] == fewest])
            heard[topic.code] += 1
            department = self.departments[topic.lead]
            head = f"руководителя {_genitive_head(department.name_ru)}"
            question = _lower_first(self.question(topic, day))
            others = [
                t
                for t in self.topics_on(day)
                if t.commission == topic.commission and t is not topic
            ]
            extra = rng.sample(others, min(rng.randint(1, 2), len(others)))
            plans.append(
                MeetingPlan(
                    kind=MeetingKind.HEARING,
                    date=day,
                    title=f"Заслушивание отчёта {head} {question}"[:300],
                    items=[(f"Отчёт {head} {question}", topic)]
                    + [(self.question(t, day), t) for t in extra],
                    location=COMMISSION_ROOM,
                    commission=self.commissions[topic.commission],
                    department=department,
                    weight=2.5,
                )
            )
        return plans

    def number_commission_protocols(self, plans: Sequence[MeetingPlan], lo: dt.date) -> None:
        """«К-3/12»: the commission's order and its meeting's number in the convocation."""
        per_year = (COMMISSION_MEETINGS + HEARINGS) / max(len(self.commissions), 1)
        before = round(self.years_since_election(lo) * per_year)
        counters: Counter[str] = Counter()
        for plan in sorted(plans, key=lambda p: p.date):
            assert plan.commission is not None
            counters[plan.commission.code] += 1
            plan.protocol_number = (
                f"К-{plan.commission.order}/{before + counters[plan.commission.code]}"
            )

    def plan_meetings(self) -> list[MeetingPlan]:
        lo = self.start + dt.timedelta(days=1)
        hi = self.today - dt.timedelta(days=RECENT_MEETING_DAYS)
        sessions = self.plan_sessions(lo, hi)
        commission_meetings = self.plan_commission_meetings(lo, hi)
        hearings = self.plan_hearings(lo, hi)
        self.number_commission_protocols([*commission_meetings, *hearings], lo)
        plans = sorted([*sessions, *commission_meetings, *hearings], key=lambda p: p.date)
        for plan in plans:
            plan.protocol_day = self.pick(
                self.rng,
                plan.date + dt.timedelta(days=1),
                min(plan.date + dt.timedelta(days=3), self.last_day),
            )
        return plans

    # --- Instructions ---------------------------------------------------------------------

    def department_for(self, code: str, district: str) -> Department | None:
        return self.departments.get(district if code == DISTRICT else code)

    def plan_instructions(self, meetings: Sequence[MeetingPlan]) -> list[InstructionPlan]:
        rng = self.rng
        held = [m for m in meetings if m.items]
        total = INSTRUCTIONS * self.scale
        if not held or not total:
            return []
        counts = Counter[int]()
        if total >= len(held):
            counts.update(range(len(held)))
        weights = [m.weight for m in held]
        for index in rng.choices(range(len(held)), weights=weights, k=total - sum(counts.values())):
            counts[index] += 1
        plans: list[InstructionPlan] = []
        district_codes = list(self.districts)
        for index, meeting in enumerate(held):
            items = [(n, t) for n, (_title, t) in enumerate(meeting.items, start=1)]
            per_item: Counter[int] = Counter()
            for k in range(counts[index]):
                item_number, topic = items[k % len(items)]
                per_item[item_number] += 1
                task_index = (per_item[item_number] - 1) % len(topic.tasks)
                district = (
                    meeting.district
                    if meeting.district and item_number == 1
                    else rng.choice(list(topic.districts) or district_codes)
                )
                lead = self.department_for(topic.lead, district)
                if lead is None:
                    continue
                co: list[Department] = []
                if topic.co and rng.random() < CO_EXECUTOR_SHARE:
                    for code in rng.sample(topic.co, min(rng.randint(1, 2), len(topic.co))):
                        department = self.department_for(code, district)
                        if department is not None and department != lead and department not in co:
                            co.append(department)
                commission = self.commissions[topic.commission]
                deputy = None
                if rng.random() < CONTROLLER_DEPUTY_SHARE:
                    candidates = [
                        d
                        for d in self.members.get(commission.pk, [])
                        if d.pk != commission.chair_id
                    ]
                    deputy = rng.choice(candidates) if candidates else None
                period = ReportPeriod.NONE
                days = rng.randint(30, 92)
                if rng.random() < PERIODIC_SHARE:
                    period = (
                        ReportPeriod.MONTHLY
                        if rng.random() < MONTHLY_SHARE
                        else ReportPeriod.QUARTERLY
                    )
                    days = rng.randint(60, 92)
                fields = self.fields_for(meeting.date, district)
                plans.append(
                    InstructionPlan(
                        index=len(plans),
                        meeting=meeting,
                        item_number=item_number,
                        number=f"{item_number}.{per_item[item_number]}",
                        text=topic.tasks[task_index].format_map(fields),
                        topic=topic,
                        lead=lead,
                        co=co,
                        commission=commission,
                        deputy=deputy,
                        due=self.working_day_on_or_after(meeting.date + dt.timedelta(days=days)),
                        period=period,
                        seed=rng.getrandbits(64),
                        fields=fields,
                    )
                )
                meeting.instructions.append(plans[-1])
        return plans

    # --- Fates and timelines ----------------------------------------------------------------

    def assign_fates(self, plans: Sequence[InstructionPlan]) -> None:
        rng = self.rng
        for plan in plans:
            weights = PAST_DUE_WEIGHTS if plan.due < self.today else RUNNING_WEIGHTS
            fate = rng.choices(list(weights), weights=list(weights.values()))[0]
            while True:
                try:
                    plan.actions = self.timeline(plan, fate)
                except Infeasible:
                    fate = FALLBACK.get(fate) or self.base_fate(plan)
                    continue
                plan.fate = fate
                break
        # A small year may not draw every fate: force each missing one onto an instruction
        # whose fate others share, so every state is there to see.
        counts = Counter(p.fate for p in plans)
        candidates = list(plans)
        rng.shuffle(candidates)
        for fate in REQUIRED_FATES:
            if counts[fate]:
                continue
            for plan in candidates:
                if counts[plan.fate] < 2:
                    continue
                try:
                    actions = self.timeline(plan, fate)
                except Infeasible:
                    continue
                counts[plan.fate] -= 1
                counts[fate] += 1
                plan.fate, plan.actions = fate, actions
                break

    def base_fate(self, plan: InstructionPlan) -> str:
        """Always fits: nothing but interim reports and messages."""
        return OVERDUE if plan.due < self.today else ON_CONTROL

    def decider(self, rng: random.Random, plan: InstructionPlan) -> User:
        """Staff or the controller (the deputy, or the commission's chair) decide on a report."""
        controllers = [d.user for d in (plan.deputy, plan.commission.chair) if d is not None]
        if not controllers or rng.random() < STAFF_DECIDES_SHARE:
            return self.staff
        return rng.choice(controllers)

    def timeline(self, plan: InstructionPlan, fate: str) -> list[Action]:
        """The dated actions that take ``plan`` to ``fate``; Infeasible when they do not fit."""
        rng = random.Random(plan.seed)
        pick = self.pick
        day = dt.timedelta(days=1)
        assert plan.meeting.protocol_day is not None
        created, due, last = plan.meeting.protocol_day, plan.due, self.last_day
        head, officer = self.heads[plan.lead.code], self.executors[plan.lead.code]
        limit = add_months(due, self.extension_rule.max_extension_months)
        actions: list[Action] = []
        texts = self.texts(plan, rng)

        def add(when: dt.date, kind: str, user: User, text: str = "", **extra: Any) -> dt.date:
            actions.append(Action(day=when, kind=kind, user=user, text=text, **extra))
            return when

        def reporter() -> User:
            return head if rng.random() < 0.6 else officer

        def final(lo: dt.date, hi: dt.date, *, again: bool = False) -> dt.date:
            return add(pick(rng, lo, hi), "final", reporter(), texts.final(rng, again=again))

        def accept(after: dt.date) -> dt.date:
            when = pick(rng, after + day, min(after + 7 * day, last))
            return add(when, "accept", self.decider(rng, plan), rng.choice(ACCEPT_COMMENTS))

        def give_back(lo: dt.date, hi: dt.date) -> dt.date:
            return add(
                pick(rng, lo, hi), "return", self.decider(rng, plan), rng.choice(RETURN_COMMENTS)
            )

        def ask(lo: dt.date, hi: dt.date, new_due: dt.date) -> dt.date:
            if not due < new_due <= limit:
                raise Infeasible
            when = pick(rng, lo, hi)
            return add(when, "ask", officer, rng.choice(EXTENSION_REASONS), new_due=new_due)

        def decide(after: dt.date, hi: dt.date, *, approve: bool) -> dt.date:
            by = self.chair if rng.random() < CHAIR_DECIDES_EXTENSION_SHARE else self.staff
            comment = rng.choice(EXTENSION_APPROVALS if approve else EXTENSION_REJECTIONS)
            return add(pick(rng, after + day, hi), "decide", by, comment, approve=approve)

        on_time = min(due, last - day)
        first_final: dt.date | None = None  # the open period (for interim reports) ends here
        if fate == EXECUTED:
            lo = created + max(1, (on_time - created).days * 2 // 5) * day
            first_final = final(lo, on_time)
            accept(first_final)
        elif fate == EXECUTED_AFTER_RETURN:
            first_final = final(created + 2 * day, on_time - 6 * day)
            back = give_back(first_final + day, first_final + 3 * day)
            accept(final(back + 2 * day, on_time, again=True))
        elif fate == EXECUTED_EXTENDED:
            new_due = min(due + rng.randint(14, 45) * day, limit)
            asked = ask(
                max(created + 2 * day, due - 20 * day), min(due - day, last - 4 * day), new_due
            )
            decided = decide(asked, min(asked + 3 * day, last - 3 * day), approve=True)
            first_final = final(decided + day, min(new_due, last - day))
            accept(first_final)
        elif fate == LATE:
            if due > last - 2 * day:
                raise Infeasible
            first_final = final(due + day, min(due + rng.randint(5, 45) * day, last - day))
            accept(first_final)
        elif fate == LATE_EXTENSION_REJECTED:
            new_due = min(due + rng.randint(14, 40) * day, limit)
            asked = ask(
                max(created + 2 * day, due - 15 * day), min(due - day, last - 5 * day), new_due
            )
            decided = decide(asked, min(asked + 3 * day, last - 4 * day), approve=False)
            lo = max(due, decided) + day
            first_final = final(lo, min(lo + 40 * day, last - day))
            accept(first_final)
        elif fate == LATE_AFTER_RETURN:
            if due > last - 4 * day:
                raise Infeasible
            first_final = final(max(created + 2 * day, due - 12 * day), min(due, last - 7 * day))
            back = give_back(first_final + day, min(first_final + 4 * day, last - 5 * day))
            lo = max(back + 2 * day, due + day)
            accept(final(lo, min(lo + 30 * day, last - day), again=True))
        elif fate == REPORTED:
            first_final = final(max(created + 2 * day, last - 10 * day), last)
        elif fate == RETURNED:
            first_final = final(max(created + 2 * day, last - 20 * day), last - 2 * day)
            give_back(first_final + day, min(first_final + 5 * day, last))
        elif fate in (ON_CONTROL, ON_CONTROL_EXTENSION_PENDING):
            if due < self.today:
                raise Infeasible
            if fate == ON_CONTROL_EXTENSION_PENDING:
                new_due = min(due + rng.randint(14, 40) * day, limit)
                ask(max(created + 3 * day, last - 10 * day), last, new_due)
        elif fate in (OVERDUE, OVERDUE_EXTENSION_PENDING):
            if due >= self.today:
                raise Infeasible
            if fate == OVERDUE_EXTENSION_PENDING:
                lo = max(created + 3 * day, due - 2 * day, last - 10 * day)
                new_due = min(max(due, lo) + rng.randint(10, 30) * day, limit)
                if new_due < lo + 7 * day:
                    raise Infeasible
                ask(lo, last, new_due)
            reminded = add(
                pick(rng, due + day, last), "message", self.staff, rng.choice(OVERDUE_REMINDERS)
            )
            if reminded < last and rng.random() < 0.6:
                add(
                    pick(rng, reminded + day, min(reminded + 3 * day, last)),
                    "message",
                    officer,
                    rng.choice(OVERDUE_REPLIES),
                )
        elif fate == REMOVED:
            add(
                pick(rng, created + 10 * day, last),
                "remove",
                self.staff,
                rng.choice(REMOVAL_REASONS),
            )
        elif fate == REMOVED_AFTER_REPORT:
            first_final = final(created + 3 * day, last - 3 * day)
            add(
                pick(rng, first_final + day, min(first_final + 20 * day, last)),
                "remove",
                self.staff,
                rng.choice(REMOVAL_REASONS),
            )
        else:  # pragma: no cover - the fates are the constants above
            raise ValueError(fate)

        removed = next((a.day for a in actions if a.kind == "remove"), None)
        open_until = min(d for d in (first_final, removed, self.today) if d is not None)
        self.interim_reports(plan, rng, texts, created, open_until, actions)
        self.conversation(plan, rng, created, open_until, actions)
        return actions

    def interim_reports(
        self,
        plan: InstructionPlan,
        rng: random.Random,
        texts: Texts,
        created: dt.date,
        open_until: dt.date,
        actions: list[Action],
    ) -> None:
        """Periodic reports, the co-executors' parts and the odd progress note, all before
        ``open_until`` (the first final report, the removal or today)."""
        officer = self.executors[plan.lead.code]
        last_open = open_until - dt.timedelta(days=1)
        if plan.period != ReportPeriod.NONE:
            step = 30 if plan.period == ReportPeriod.MONTHLY else 91
            stop = min(open_until, plan.due + dt.timedelta(days=90))
            k = 1
            while (moment := created + dt.timedelta(days=step * k)) < stop:
                when = self.pick(rng, moment, min(moment + dt.timedelta(days=4), last_open))
                actions.append(
                    Action(when, "interim", officer, texts.periodic(when, plan.period, rng))
                )
                k += 1
        elif rng.random() < 0.15:
            try:
                when = self.pick(rng, created + dt.timedelta(days=7), last_open)
            except Infeasible:
                pass
            else:
                actions.append(Action(when, "interim", officer, texts.interim(rng)))
        for department in plan.co:
            if rng.random() < 0.7:
                try:
                    when = self.pick(rng, created + dt.timedelta(days=3), last_open)
                except Infeasible:
                    continue
                text = texts.co_executor(department, rng)
                actions.append(Action(when, "interim", self.executors[department.code], text))

    def conversation(
        self,
        plan: InstructionPlan,
        rng: random.Random,
        created: dt.date,
        open_until: dt.date,
        actions: list[Action],
    ) -> None:
        """Now and then the controller (or staff) asks in the thread and the department answers."""
        if rng.random() >= MESSAGE_SHARE:
            return
        controllers = [d.user for d in (plan.deputy, plan.commission.chair) if d is not None]
        asker = rng.choice(controllers) if controllers and rng.random() < 0.7 else self.staff
        try:
            asked = self.pick(
                rng, created + dt.timedelta(days=1), open_until - dt.timedelta(days=1)
            )
        except Infeasible:
            return
        actions.append(Action(asked, "message", asker, rng.choice(CONTROLLER_QUESTIONS)))
        if asked < self.last_day:
            reply = self.pick(rng, asked, min(asked + dt.timedelta(days=2), self.last_day))
            actions.append(
                Action(
                    reply, "message", self.executors[plan.lead.code], rng.choice(DEPARTMENT_REPLIES)
                )
            )

    def texts(self, plan: InstructionPlan, rng: random.Random) -> Texts:
        return Texts(plan=plan, done=plan.topic.done.format_map(self.numbers(rng, plan.fields)))

    @staticmethod
    def numbers(rng: random.Random, fields: dict[str, Any]) -> dict[str, Any]:
        return {
            **fields,
            "n": rng.randint(3, 40),
            "n2": rng.randint(2, 15),
            "pct": rng.randint(85, 100),
        }

    # --- Replay ---------------------------------------------------------------------------

    def replay(self, meetings: Sequence[MeetingPlan], plans: Sequence[InstructionPlan]) -> None:
        """Run every step — meetings, protocols, instructions, actions — in time order."""
        rng = self.rng
        steps: list[tuple[dt.datetime, int, Callable[[], object]]] = []

        def add(moment: dt.datetime, action: Callable[[], object]) -> None:
            steps.append((moment, len(steps), action))

        for meeting in meetings:
            entered = self.pick(
                rng, meeting.date - dt.timedelta(days=20), meeting.date - dt.timedelta(days=5)
            )
            add(
                self.at(entered, rng.randint(9, 17), rng.randint(0, 59)),
                _bind(self.create_meeting, meeting),
            )
            assert meeting.protocol_day is not None
            recorded = self.at(meeting.protocol_day, rng.randint(10, 12), rng.randint(0, 59))
            add(recorded, _bind(self.create_protocol, meeting, recorded))
            # The instructions are put on control one minute apart after the protocol.
            cursor = recorded + dt.timedelta(minutes=len(meeting.instructions) + 1)
            for plan in meeting.instructions:
                for moment, action in self.moments(plan, cursor):
                    add(moment, _bind(self.perform, plan, action))

        steps.sort(key=lambda step: (step[0], step[1]))
        # The requests step's clock and in-app-only ``notify`` (see ``requests_app.demo``):
        # every timestamp is the simulated moment, and no e-mail task is registered for the
        # command's commit — the services here import ``notify`` by name, so it is patched
        # in ``instruction_services``.
        with (
            mock.patch("django.utils.timezone.now", self.clock),
            mock.patch.object(services, "notify", _in_app_only(services.notify)),
        ):
            for moment, _order, step in steps:
                assert moment < self.horizon, "the demo year must stay in the past"
                self.clock.set(moment)
                step()

    def moments(
        self, plan: InstructionPlan, cursor: dt.datetime
    ) -> list[tuple[dt.datetime, Action]]:
        """Office-hour moments for the plan's actions, strictly increasing from ``cursor``."""
        rng = random.Random(plan.seed ^ 0x5EED)
        result = []
        for action in sorted(plan.actions, key=lambda a: a.day):
            end_of_day = self.at(action.day, 23, 50)
            if action.day <= cursor.date():
                moment = min(cursor + dt.timedelta(minutes=rng.randint(10, 90)), end_of_day)
            else:
                moment = self.at(action.day, rng.randint(9, 17), rng.randint(0, 59))
            moment = max(moment, cursor + dt.timedelta(seconds=30))
            result.append((moment, action))
            cursor = moment
        return result

    def create_meeting(self, plan: MeetingPlan) -> None:
        plan.meeting = services.meeting_create(
            by=self.staff,
            kind=plan.kind,
            date=plan.date,
            title=plan.title,
            commission=plan.commission,
            department=plan.department,
            session_kind=plan.session_kind,
            agenda="\n".join(f"{n}. {title}" for n, (title, _t) in enumerate(plan.items, start=1)),
            location=plan.location,
            is_field_visit=plan.is_field_visit,
            convocation=self.convocation,
        )

    def create_protocol(self, plan: MeetingPlan, recorded: dt.datetime) -> None:
        assert plan.meeting is not None
        protocol = services.protocol_create(
            by=self.staff,
            meeting=plan.meeting,
            number=plan.protocol_number,
            date=plan.date,
            items=[title for title, _topic in plan.items],
        )
        items = {item.number: item for item in protocol.items.all()}
        for offset, instruction in enumerate(plan.instructions, start=1):
            self.clock.set(recorded + dt.timedelta(minutes=offset))
            created = services.instruction_create(
                by=self.staff,
                protocol=protocol,
                text=instruction.text,
                lead_department=instruction.lead,
                co_departments=instruction.co,
                controller_commission=instruction.commission,
                controller_deputy=instruction.deputy,
                due_date=instruction.due,
                report_period=instruction.period,
                number=instruction.number,
                item=items.get(instruction.item_number),
            )
            instruction.pk = created.pk

    def perform(self, plan: InstructionPlan, action: Action) -> None:
        pk = plan.pk
        assert pk is not None
        by = action.user
        if action.kind in ("interim", "final"):
            services.instruction_report(
                pk=pk, by=by, text=action.text, final=action.kind == "final"
            )
        elif action.kind == "accept":
            services.instruction_accept(pk=pk, by=by, comment=action.text)
        elif action.kind == "return":
            services.instruction_return(pk=pk, by=by, comment=action.text)
        elif action.kind == "ask":
            assert action.new_due is not None
            plan.extension = services.instruction_extension_ask(
                pk=pk, by=by, new_due_date=action.new_due, reason=action.text
            )
        elif action.kind == "decide":
            assert plan.extension is not None
            services.instruction_extension_decide(
                pk=pk,
                extension_id=plan.extension.pk,
                by=by,
                approve=action.approve,
                comment=action.text,
            )
        elif action.kind == "remove":
            services.instruction_remove_from_control(pk=pk, by=by, reason=action.text)
        elif action.kind == "message":
            services.instruction_message_post(pk=pk, by=by, text=action.text)
        else:  # pragma: no cover
            raise ValueError(action.kind)

    def settle_notifications(self) -> None:
        """As the requests step does: never e-mailed, read unless recent."""
        notifications = Notification.objects.filter(item_type=ItemType.INSTRUCTION)
        notifications.filter(send_email=True, emailed_at__isnull=True).update(send_email=False)
        recent = self.horizon - dt.timedelta(days=NOTIFICATIONS_UNREAD_DAYS)
        notifications.filter(read_at__isnull=True, created_at__lt=recent).update(
            read_at=F("created_at")
        )

    # --- The coming month -----------------------------------------------------------------

    def plan_upcoming(self, last_session_number: int) -> list[MeetingPlan]:
        """Sessions and commission meetings (some on site) of the next month: no protocol yet."""
        rng = self.rng
        lo = self.today + dt.timedelta(days=3)
        hi = self.today + dt.timedelta(days=UPCOMING_DAYS)
        plans = []
        session_days = sorted(
            self.pick(rng, lo + (hi - lo) * i // 3, lo + (hi - lo) * (i + 1) // 3)
            for i in range(rng.randint(*UPCOMING_SESSIONS))
        )
        for i, day in enumerate(session_days):
            session_topics = [t for t in self.topics_on(day) if t.session]
            topics = rng.sample(session_topics, min(rng.randint(2, 4), len(session_topics)))
            plans.append(self.session(last_session_number + i + 1, day, rng.random() < 0.4, topics))
        commissions = list(self.commissions.values())
        if commissions:
            for _i in range(rng.randint(*UPCOMING_COMMISSION_MEETINGS)):
                plans.append(
                    self.commission_meeting(
                        rng.choice(commissions),
                        self.pick(rng, lo, hi),
                        field_visit=rng.random() < 0.5,
                    )
                )
        return sorted(plans, key=lambda p: p.date)

    # --- The summary ------------------------------------------------------------------------

    def summary(self, meetings: Sequence[MeetingPlan], upcoming: int, seconds: float) -> str:
        kinds = Counter(m.kind for m in meetings)
        field_visits = sum(1 for m in meetings if m.is_field_visit)
        rows = list(Instruction.objects.values_list("status", "due_date", "reported_at"))
        by_status = Counter(status for status, _due, _reported in rows)
        overdue = sum(
            1
            for status, due, _reported in rows
            if status in (InstructionStatus.ON_CONTROL, InstructionStatus.RETURNED)
            and due < self.today
        )
        late = sum(
            1
            for status, due, reported in rows
            if status == InstructionStatus.EXECUTED
            and reported is not None
            and timezone.localdate(reported) > due
        )
        return _(
            "Meetings: %(meetings)d (sessions %(sessions)d, commission meetings %(commission)d "
            "of which %(field)d field visits, hearings %(hearings)d; upcoming %(upcoming)d); "
            "instructions: %(instructions)d (executed %(executed)d of which %(late)d late, "
            "on control %(on_control)d, overdue %(overdue)d, reported %(reported)d, "
            "returned %(returned)d, removed from control %(removed)d) in %(seconds).1f s."
        ) % {
            "meetings": len(meetings) + upcoming,
            "sessions": kinds[MeetingKind.SESSION],
            "commission": kinds[MeetingKind.COMMISSION],
            "field": field_visits,
            "hearings": kinds[MeetingKind.HEARING],
            "upcoming": upcoming,
            "instructions": len(rows),
            "executed": by_status[InstructionStatus.EXECUTED],
            "late": late,
            "on_control": by_status[InstructionStatus.ON_CONTROL],
            "overdue": overdue,
            "reported": by_status[InstructionStatus.REPORTED],
            "returned": by_status[InstructionStatus.RETURNED],
            "removed": by_status[InstructionStatus.REMOVED_FROM_CONTROL],
            "seconds": seconds,
        }


@dataclass
class Texts:
    """The report texts of one instruction."""

    plan: InstructionPlan
    done: str

    def _fill(self, template: str, **extra: Any) -> str:
        plan = self.plan
        return template.format(
            number=plan.number,
            protocol=plan.meeting.protocol_number,
            date=plan.meeting.date.strftime("%d.%m.%Y"),
            done=self.done,
            **extra,
        )

    def final(self, rng: random.Random, *, again: bool = False) -> str:
        return self._fill(rng.choice(REPORTS_AFTER_RETURN if again else FINAL_REPORTS))

    def progress(self, rng: random.Random) -> str:
        return rng.choice(PROGRESS).format(pct=rng.randint(30, 80), n=rng.randint(2, 6))

    def periodic(self, day: dt.date, period: str, rng: random.Random) -> str:
        if period == ReportPeriod.MONTHLY:
            month = day - dt.timedelta(days=15)
            label = f"{MONTHS[month.month - 1]} {month.year} года"
        else:
            quarter = day - dt.timedelta(days=45)
            label = f"{roman((quarter.month - 1) // 3 + 1)} квартал {quarter.year} года"
        return self._fill(rng.choice(PERIODIC_REPORTS), period=label, progress=self.progress(rng))

    def interim(self, rng: random.Random) -> str:
        return self._fill(rng.choice(INTERIM_REPORTS), progress=self.progress(rng))

    def co_executor(self, department: Department, rng: random.Random) -> str:
        return self._fill(
            rng.choice(CO_EXECUTOR_REPORTS),
            department=department.name_ru,
            progress=self.progress(rng),
        )


def _bind(function: Callable[..., object], *args: Any) -> Callable[[], object]:
    return lambda: function(*args)


def seed_instructions(context: DemoContext) -> str:
    """The demo year of meetings and protocol instructions (a ``seed_demo`` step).

    Skipped when the database already has meetings, so running ``seed_demo`` twice adds
    nothing.
    """
    existing = Meeting.objects.count()
    if existing:
        return _(
            "Meetings: %(count)d already in the database, the demo meetings and instructions "
            "were not added."
        ) % {"count": existing}
    started = time.perf_counter()
    year = InstructionYear(context)
    meetings = year.plan_meetings()
    plans = year.plan_instructions(meetings)
    year.assign_fates(plans)
    year.replay(meetings, plans)
    year.settle_notifications()
    sessions = [m for m in meetings if m.kind == MeetingKind.SESSION]
    last_number = max((int(m.protocol_number) for m in sessions), default=0)
    upcoming = year.plan_upcoming(last_number)
    for plan in upcoming:
        year.create_meeting(plan)
    return year.summary(meetings, len(upcoming), time.perf_counter() - started)
