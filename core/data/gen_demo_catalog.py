#!/usr/bin/env python3
"""Generate core/data/demo_catalog.json, Warung's bundled demo catalog.

Deterministic (seeded `random.Random`), standard library only:

    python3 core/data/gen_demo_catalog.py            # writes demo_catalog.json next to this file
    python3 core/data/gen_demo_catalog.py OUT.json   # writes elsewhere

The output is a JSON array of `Entity` objects (see core/src/protocol.rs) in dependency order:
merchants, categories (parents before children), each product followed by its variants, vouchers.
Money is `{"amount": "<decimal string>", "currency": "IDR"}`; IDR amounts are whole rupiah.

Product families below are hand-written (titles, descriptions, attributes, option axes, price
ranges) and expanded with brands, origins, sizes, colours and weights. Most text is Indonesian;
the English-speaking merchants (and some others) get English text, so search is exercised in
both languages (affixed forms such as "pembelian", "dikirim", "bergaransi"; inflections such as
"shipping", "brewed", "phones").
"""

import datetime as dt
import json
import os
import random
import sys

SEED = 20260101
rng = random.Random(SEED)

USD_RATE = 16250  # rupiah per US dollar, for the few variants that also carry a USD price

# --------------------------------------------------------------------------------------------
# Merchants
# --------------------------------------------------------------------------------------------

SHIP_ID = (
    "Dikirim dalam 1x24 jam (hari kerja) via JNE/J&T/SiCepat; gratis ongkir di atas Rp150.000 "
    "untuk Pulau Jawa. Pesanan sebelum pukul 15.00 WIB dikirim di hari yang sama."
)

MERCHANTS = [
    {
        "id": "m-berkah-jaya",
        "name": "Toko Sembako Berkah Jaya",
        "kind": "shop",
        "city": "Jakarta",
        "sku": "BJ",
        "en_share": 0.0,
        "contact": {"phone": "+62215551234", "email": "halo@berkahjaya.example.com",
                    "whatsapp": "+6281210002345"},
        "policies": {
            "shipping": SHIP_ID + " Kurir instan (GoSend/GrabExpress) tersedia untuk Jabodetabek.",
            "warranty": "Barang rusak, bocor atau kedaluwarsa saat diterima kami ganti 100%. "
                        "Tanggal kedaluwarsa minimal 6 bulan saat pengiriman.",
            "returns": "Komplain maksimal 2x24 jam setelah paket diterima, wajib video unboxing. "
                       "Dana dikembalikan ke saldo Warung dalam 1x24 jam setelah komplain disetujui.",
        },
    },
    {
        "id": "m-dapur-bu-rini",
        "name": "Dapur Bu Rini",
        "kind": "seller",
        "city": "Solo",
        "sku": "DBR",
        "en_share": 0.0,
        "contact": {"phone": "+6285725550187", "email": "dapurburini@example.com",
                    "whatsapp": "+6285725550187"},
        "policies": {
            "shipping": "Masak setiap hari, dikirim H+1 setelah pembelian via JNE YES/SiCepat BEST "
                        "agar tetap segar. Luar Jawa hanya untuk produk kering.",
            "warranty": "Tanpa pengawet; sambal tahan 2 minggu di suhu ruang, 2 bulan di kulkas.",
            "returns": "Toples pecah atau bocor di perjalanan diganti baru, kirim foto dan video "
                       "pembukaan paket lewat chat maksimal 1x24 jam.",
        },
    },
    {
        "id": "m-batik-pesona",
        "name": "Batik Pesona Pekalongan",
        "kind": "shop",
        "city": "Pekalongan",
        "sku": "BPP",
        "en_share": 0.15,
        "contact": {"phone": "+62285555678", "email": "cs@batikpesona.example.com",
                    "whatsapp": "+6281325551122"},
        "policies": {
            "shipping": SHIP_ID + " Pengiriman ke luar negeri via EMS/DHL atas permintaan.",
            "warranty": "Batik tulis dan cap asli Pekalongan, bukan printing; bersertifikat Batikmark "
                        "untuk batik tulis. Uang kembali 2x lipat jika terbukti printing.",
            "returns": "Tukar ukuran gratis maksimal 7 hari setelah diterima selama label belum "
                       "dilepas dan belum dicuci. Ongkir tukar ditanggung pembeli.",
        },
    },
    {
        "id": "m-sari-craft",
        "name": "Sari Handmade Yogya",
        "kind": "seller",
        "city": "Yogyakarta",
        "sku": "SHY",
        "en_share": 0.0,
        "contact": {"phone": "+6287738881234", "email": "sari.handmade@example.net",
                    "whatsapp": "+6287738881234"},
        "policies": {
            "shipping": "Ready stock dikirim 1–2 hari kerja via JNE/J&T; pre-order batik tulis "
                        "3–4 minggu. Gratis ongkir di atas Rp300.000.",
            "warranty": "Dibuat tangan oleh pembatik di Bantul; sedikit perbedaan warna dan motif "
                        "adalah ciri batik tulis, bukan cacat.",
            "returns": "Retur hanya untuk barang cacat produksi, maksimal 3 hari setelah diterima.",
        },
    },
    {
        "id": "m-kopi-nusantara",
        "name": "Nusantara Coffee Roasters",
        "kind": "shop",
        "city": "Bandung",
        "sku": "NCR",
        "en_share": 0.5,
        "contact": {"phone": "+62224223344", "email": "hello@nusantaracoffee.example.com",
                    "whatsapp": "+6281122334455"},
        "policies": {
            "shipping": "Roasted to order every Monday and Thursday; shipped the next business day "
                        "via JNE/SiCepat. Free shipping in Bandung for orders over Rp150.000.",
            "warranty": "Best before 3 months from the roast date printed on every bag. "
                        "Kemasan valve satu arah menjaga kesegaran biji kopi.",
            "returns": "Not happy with the roast? Tell us within 7 days and we will re-roast or "
                       "refund. Produk yang sudah dibuka tetap bisa diganti jika cacat.",
        },
    },
    {
        "id": "m-gadget-hub",
        "name": "Gadget Hub Surabaya",
        "kind": "shop",
        "city": "Surabaya",
        "sku": "GHS",
        "en_share": 0.8,
        "contact": {"phone": "+62315678900", "email": "support@gadgethub.example.com",
                    "whatsapp": "+6281330099887"},
        "policies": {
            "shipping": "Ships within 24 hours via JNE/J&T/SiCepat with free insurance; same-day "
                        "delivery in Surabaya. Free shipping over Rp150.000.",
            "warranty": "Official 1-year manufacturer warranty on phones and tablets, 6 months on "
                        "accessories. Garansi resmi, bukan garansi distributor.",
            "returns": "Dead on arrival units are replaced within 7 days with an unboxing video. "
                       "Change-of-mind returns are not accepted for opened phones.",
        },
    },
    {
        "id": "m-sinar-elektronik",
        "name": "Sinar Elektronik Medan",
        "kind": "shop",
        "city": "Medan",
        "sku": "SEM",
        "en_share": 0.05,
        "contact": {"phone": "+62614567890", "email": "penjualan@sinarelektronik.example.com",
                    "whatsapp": "+6281260001234"},
        "policies": {
            "shipping": "Dikirim dalam 1x24 jam via JNE/J&T/SiCepat, barang besar via kargo "
                        "(Indah Cargo/Dakota). Gratis ongkir Kota Medan di atas Rp150.000.",
            "warranty": "Semua produk bergaransi resmi 1 tahun (kompresor dan motor hingga 5 tahun "
                        "sesuai kartu garansi). Klaim garansi dibantu toko.",
            "returns": "Barang rusak saat diterima ditukar baru dalam 3 hari; wajib video unboxing "
                       "dan kardus asli.",
        },
    },
    {
        "id": "m-bali-glow",
        "name": "Bali Glow Beauty",
        "kind": "shop",
        "city": "Denpasar",
        "sku": "BGB",
        "en_share": 0.7,
        "contact": {"phone": "+62361223344", "email": "care@baliglow.example.org",
                    "whatsapp": "+6281999887766"},
        "policies": {
            "shipping": "Packed with love in Denpasar and shipped within 1x24 hours via JNE/J&T. "
                        "Free shipping on orders over Rp150.000.",
            "warranty": "BPOM-registered, cruelty-free, made in small batches in Bali. "
                        "Sudah terdaftar BPOM dan halal.",
            "returns": "Unopened products can be returned within 14 days for a full refund. "
                       "Produk yang sudah dibuka tidak bisa dikembalikan kecuali rusak.",
        },
    },
    {
        "id": "m-anging-sport",
        "name": "Anging Mammiri Sport",
        "kind": "shop",
        "city": "Makassar",
        "sku": "AMS",
        "en_share": 0.1,
        "contact": {"phone": "+62411876543", "email": "admin@angingsport.example.com",
                    "whatsapp": "+6281342345678"},
        "policies": {
            "shipping": "Dikirim setiap hari kecuali Minggu via JNE/J&T/SiCepat; gratis ongkir "
                        "Makassar dan Gowa di atas Rp150.000.",
            "warranty": "Garansi jahitan dan lem sepatu 3 bulan; alat fitness garansi 6 bulan.",
            "returns": "Tukar ukuran maksimal 7 hari, barang belum dipakai dan tag masih terpasang.",
        },
    },
    {
        "id": "m-lapak-budi",
        "name": "Lapak Pak Budi",
        "kind": "seller",
        "city": "Semarang",
        "sku": "LPB",
        "en_share": 0.0,
        "contact": {"phone": "+6289655512345", "email": "lapakbudi@example.com",
                    "whatsapp": "+6289655512345"},
        "policies": {
            "shipping": "Dikirim 1–2 hari kerja via J&T/SiCepat/AnterAja. Bisa ambil sendiri di "
                        "Semarang Barat.",
            "warranty": "Barang baru, dicek dulu sebelum dikirim. Tidak ada garansi pabrik kecuali "
                        "disebutkan di deskripsi.",
            "returns": "Salah kirim atau barang cacat diganti, lapor lewat chat maksimal 2 hari.",
        },
    },
]
MERCH = {m["id"]: m for m in MERCHANTS}

# --------------------------------------------------------------------------------------------
# Categories: 8 top-level, each with 1–3 sub-categories. Products live in the sub-categories.
# --------------------------------------------------------------------------------------------

CATEGORY_TREE = [
    ("c-sembako", "Sembako & Groceries", [
        ("c-beras-minyak", "Beras, Minyak & Gula"),
        ("c-bumbu-sambal", "Bumbu, Sambal & Saus"),
        ("c-mie-camilan", "Mie Instan & Camilan"),
    ]),
    ("c-fashion", "Fashion & Batik", [
        ("c-batik", "Batik"),
        ("c-busana-muslim", "Busana Muslim"),
    ]),
    ("c-kopi-minuman", "Kopi & Minuman", [
        ("c-kopi", "Kopi"),
        ("c-teh-minuman", "Teh & Minuman Tradisional"),
    ]),
    ("c-handphone", "Handphone & Tablet", [
        ("c-smartphone", "Smartphone & Tablet"),
        ("c-aksesoris-hp", "Aksesoris Handphone"),
    ]),
    ("c-elektronik", "Elektronik", [
        ("c-elektronik-rumah", "Elektronik Rumah & Dapur"),
        ("c-audio", "Audio & Wearable"),
    ]),
    ("c-rumah-tangga", "Rumah Tangga", [
        ("c-dapur", "Peralatan Dapur"),
        ("c-kebersihan", "Kebersihan Rumah"),
    ]),
    ("c-kecantikan", "Kecantikan", [
        ("c-skincare", "Skincare & Perawatan Tubuh"),
    ]),
    ("c-olahraga", "Olahraga", [
        ("c-fitness", "Fitness & Outdoor"),
    ]),
]

# --------------------------------------------------------------------------------------------
# Shared option axes. An option is (indonesian, english, price_factor, grams).
# --------------------------------------------------------------------------------------------

SIZES = [("S", "S", 1.0, 0), ("M", "M", 1.0, 10), ("L", "L", 1.0, 20), ("XL", "XL", 1.0, 30),
         ("XXL", "XXL", 1.05, 40)]
COLOURS = [("hitam", "black", 1.0, 0), ("putih", "white", 1.0, 0), ("biru dongker", "navy", 1.0, 0),
           ("merah marun", "maroon", 1.0, 0), ("hijau army", "army green", 1.0, 0),
           ("abu-abu", "grey", 1.0, 0), ("coklat susu", "mocha", 1.0, 0)]
PHONE_COLOURS = [("hitam", "midnight black", 1.0, 0), ("biru laut", "ocean blue", 1.0, 0),
                 ("hijau mint", "mint green", 1.0, 0), ("ungu lavender", "lavender", 1.0, 0),
                 ("silver", "silver", 1.0, 0)]
BATIK_COLOURS = [("sogan coklat", "sogan brown", 1.0, 0), ("biru indigo", "indigo blue", 1.0, 0),
                 ("merah marun", "maroon", 1.0, 0), ("hijau botol", "bottle green", 1.0, 0),
                 ("hitam", "black", 1.0, 0), ("kuning kunyit", "turmeric yellow", 1.0, 0)]

K_SIZE = ("ukuran", "size")
K_COLOUR = ("warna", "colour")
K_WEIGHT = ("berat", "weight")
K_PACK = ("isi", "pack")
K_VARIANT = ("varian", "variant")

SELLER_KINDS = {"seller"}

# --------------------------------------------------------------------------------------------
# Product families. Slot values are a string (same in both languages), a tuple
# (indonesian, english[, price_factor]) or a dict with "id", "en", optional "p" and extra fields
# reachable in templates as {slot_x[field]}.
# --------------------------------------------------------------------------------------------

RICE_ORIGINS = ["Cianjur", "Karawang", "Subang", "Ngawi", "Delanggu", "Sragen", "Sidrap", "Banyuwangi"]
COFFEE_ORIGINS = [
    {"id": "Gayo Aceh", "en": "Aceh Gayo", "p": 1.15, "alt": "1.400–1.600", "note_id": "rempah, cokelat hitam dan jeruk", "note_en": "spice, dark chocolate and citrus", "bean": "arabika", "bean_t": "Arabika", "bean_en": "arabica"},
    {"id": "Toraja Sapan", "en": "Toraja Sapan", "p": 1.2, "alt": "1.500–1.800", "note_id": "karamel, kayu manis dan buah merah", "note_en": "caramel, cinnamon and red fruit", "bean": "arabika", "bean_t": "Arabika", "bean_en": "arabica"},
    {"id": "Kintamani Bali", "en": "Bali Kintamani", "p": 1.1, "alt": "1.200–1.500", "note_id": "jeruk, gula aren dan asam segar", "note_en": "orange, palm sugar and bright acidity", "bean": "arabika", "bean_t": "Arabika", "bean_en": "arabica"},
    {"id": "Flores Bajawa", "en": "Flores Bajawa", "p": 1.1, "alt": "1.300–1.600", "note_id": "cokelat, kacang dan tembakau manis", "note_en": "chocolate, nuts and sweet tobacco", "bean": "arabika", "bean_t": "Arabika", "bean_en": "arabica"},
    {"id": "Java Preanger", "en": "Java Preanger", "p": 1.05, "alt": "1.300–1.700", "note_id": "gula merah, teh hitam dan floral", "note_en": "brown sugar, black tea and florals", "bean": "arabika", "bean_t": "Arabika", "bean_en": "arabica"},
    {"id": "Mandailing", "en": "Sumatra Mandailing", "p": 1.1, "alt": "1.100–1.500", "note_id": "herbal, cokelat dan body tebal", "note_en": "herbal, cocoa and a heavy body", "bean": "arabika", "bean_t": "Arabika", "bean_en": "arabica"},
    {"id": "Ijen Bondowoso", "en": "Ijen Bondowoso", "p": 1.0, "alt": "1.200–1.500", "note_id": "apel, madu dan cengkeh", "note_en": "apple, honey and clove", "bean": "arabika", "bean_t": "Arabika", "bean_en": "arabica"},
    {"id": "Wamena Papua", "en": "Papua Wamena", "p": 1.35, "alt": "1.500–1.800", "note_id": "floral, lemon dan gula tebu", "note_en": "florals, lemon and cane sugar", "bean": "arabika", "bean_t": "Arabika", "bean_en": "arabica"},
    {"id": "Kerinci", "en": "Kerinci Jambi", "p": 1.1, "alt": "1.400–1.700", "note_id": "nangka, markisa dan madu", "note_en": "jackfruit, passion fruit and honey", "bean": "arabika", "bean_t": "Arabika", "bean_en": "arabica"},
    {"id": "Temanggung", "en": "Temanggung", "p": 0.55, "alt": "700–900", "note_id": "cokelat pahit dan kacang sangrai", "note_en": "bitter chocolate and roasted peanut", "bean": "robusta", "bean_t": "Robusta", "bean_en": "robusta"},
    {"id": "Lampung", "en": "Lampung", "p": 0.5, "alt": "400–800", "note_id": "cokelat gelap dan earthy", "note_en": "dark chocolate, earthy and bold", "bean": "robusta", "bean_t": "Robusta", "bean_en": "robusta"},
    {"id": "Dampit Malang", "en": "Dampit Malang", "p": 0.55, "alt": "600–900", "note_id": "karamel pahit dan rempah", "note_en": "bittersweet caramel and spice", "bean": "robusta", "bean_t": "Robusta", "bean_en": "robusta"},
]
BATIK_MOTIFS = ["Parang", "Kawung", "Mega Mendung", "Truntum", "Sidomukti", "Jlamprang",
                "Buketan", "Sekar Jagad", "Tiga Negeri", "Sogan Solo", "Tambal", "Lereng",
                "Liong", "Semen Rama", "Pring Sedapur"]
PHONE_MODELS = [
    {"id": "Nusaphone Lite 3", "en": "Nusaphone Lite 3", "p": 1.5e6, "brand": "Nusaphone", "scr": "6,5", "hz": "90", "bat": "5000", "w": "18", "cam": "13", "chip": "octa-core 1,8 GHz", "ram": 0},
    {"id": "Nusaphone N7", "en": "Nusaphone N7", "p": 2.3e6, "brand": "Nusaphone", "scr": "6,6", "hz": "90", "bat": "5000", "w": "33", "cam": "50", "chip": "octa-core 2,0 GHz", "ram": 0},
    {"id": "Nusaphone N9 Pro 5G", "en": "Nusaphone N9 Pro 5G", "p": 4.2e6, "brand": "Nusaphone", "scr": "6,7", "hz": "120", "bat": "5000", "w": "67", "cam": "108", "chip": "octa-core 2,4 GHz 5G", "ram": 1},
    {"id": "Lumora A15", "en": "Lumora A15", "p": 1.7e6, "brand": "Lumora", "scr": "6,5", "hz": "90", "bat": "5000", "w": "25", "cam": "50", "chip": "octa-core 2,0 GHz", "ram": 0},
    {"id": "Lumora A35 5G", "en": "Lumora A35 5G", "p": 3.9e6, "brand": "Lumora", "scr": "6,6", "hz": "120", "bat": "5000", "w": "25", "cam": "50", "chip": "octa-core 2,4 GHz 5G", "ram": 1},
    {"id": "Lumora S24 Ultra", "en": "Lumora S24 Ultra", "p": 11.0e6, "brand": "Lumora", "scr": "6,8", "hz": "120", "bat": "5000", "w": "45", "cam": "200", "chip": "octa-core 3,3 GHz 5G", "ram": 2},
    {"id": "Lumora Fold Z2", "en": "Lumora Fold Z2", "p": 10.5e6, "brand": "Lumora", "scr": "7,6", "hz": "120", "bat": "4400", "w": "25", "cam": "50", "chip": "octa-core 3,2 GHz 5G", "ram": 2},
    {"id": "Orbis Note 13", "en": "Orbis Note 13", "p": 2.6e6, "brand": "Orbis", "scr": "6,67", "hz": "120", "bat": "5000", "w": "33", "cam": "108", "chip": "octa-core 2,2 GHz", "ram": 0},
    {"id": "Orbis Note 13 Pro+", "en": "Orbis Note 13 Pro+", "p": 5.2e6, "brand": "Orbis", "scr": "6,67", "hz": "120", "bat": "5000", "w": "120", "cam": "200", "chip": "octa-core 2,8 GHz 5G", "ram": 1},
    {"id": "Orbis C65", "en": "Orbis C65", "p": 1.5e6, "brand": "Orbis", "scr": "6,74", "hz": "90", "bat": "5000", "w": "18", "cam": "50", "chip": "octa-core 1,8 GHz", "ram": 0},
    {"id": "Kinetik K9", "en": "Kinetik K9", "p": 3.1e6, "brand": "Kinetik", "scr": "6,6", "hz": "120", "bat": "6000", "w": "44", "cam": "64", "chip": "octa-core 2,4 GHz", "ram": 0},
    {"id": "Kinetik K11 Ultra", "en": "Kinetik K11 Ultra", "p": 7.8e6, "brand": "Kinetik", "scr": "6,78", "hz": "144", "bat": "5500", "w": "80", "cam": "50", "chip": "octa-core 3,0 GHz 5G", "ram": 2},
    {"id": "Zentra Z5 Neo", "en": "Zentra Z5 Neo", "p": 2.9e6, "brand": "Zentra", "scr": "6,56", "hz": "120", "bat": "5000", "w": "44", "cam": "50", "chip": "octa-core 2,2 GHz", "ram": 0},
    {"id": "Zentra X200 Pro", "en": "Zentra X200 Pro", "p": 9.4e6, "brand": "Zentra", "scr": "6,78", "hz": "120", "bat": "5400", "w": "90", "cam": "200", "chip": "octa-core 3,1 GHz 5G", "ram": 2},
    {"id": "Zentra Y28", "en": "Zentra Y28", "p": 1.9e6, "brand": "Zentra", "scr": "6,68", "hz": "90", "bat": "6000", "w": "44", "cam": "50", "chip": "octa-core 2,0 GHz", "ram": 0},
    {"id": "Garuda G1 Rugged", "en": "Garuda G1 Rugged", "p": 3.4e6, "brand": "Garuda Mobile", "scr": "6,3", "hz": "60", "bat": "10000", "w": "33", "cam": "48", "chip": "octa-core 2,0 GHz", "ram": 0},
]
RAM_TIERS = [
    [("4/64 GB", "4 GB + 64 GB", 1.0, 0), ("4/128 GB", "4 GB + 128 GB", 1.1, 0),
     ("6/128 GB", "6 GB + 128 GB", 1.2, 0), ("8/256 GB", "8 GB + 256 GB", 1.4, 0)],
    [("8/128 GB", "8 GB + 128 GB", 1.0, 0), ("8/256 GB", "8 GB + 256 GB", 1.12, 0),
     ("12/256 GB", "12 GB + 256 GB", 1.25, 0), ("12/512 GB", "12 GB + 512 GB", 1.4, 0)],
    [("12/256 GB", "12 GB + 256 GB", 1.0, 0), ("12/512 GB", "12 GB + 512 GB", 1.15, 0),
     ("16/1 TB", "16 GB + 1 TB", 1.35, 0)],
]

FAMILIES = []


def family(**kw):
    FAMILIES.append(kw)


# ---- Sembako --------------------------------------------------------------------------------

family(
    code="BRS", cat="c-beras-minyak", n=12,
    merchants=[("m-berkah-jaya", 4), ("m-lapak-budi", 1)],
    brands=["Sawah Lestari", "Padi Emas", "Lumbung Tani", "Bulir Mas", "Ramos Jaya"],
    slots={
        "jenis": [("Pandan Wangi", "Pandan Wangi", 1.0), ("Rojolele", "Rojolele", 1.05),
                  ("Setra Ramos", "Setra Ramos", 0.95), ("Merah Organik", "Organic Red", 1.5),
                  ("Hitam Organik", "Organic Black", 1.8), ("Ketan Putih", "White Glutinous", 1.2),
                  ("Mentik Wangi Susu", "Mentik Wangi", 1.15), ("Premium Slyp Super", "Super Premium", 1.0)],
        "asal": RICE_ORIGINS,
    },
    title={"id": "Beras {jenis} {merek}", "en": "{merek} {jenis} Rice"},
    desc={
        "id": ["Beras {jenis} pilihan dari petani {asal}, pulen dan wangi saat dimasak.",
               "Digiling ulang sehingga butirannya bersih, tanpa pemutih dan tanpa pewangi buatan.",
               "Cocok untuk nasi sehari-hari, nasi liwet maupun nasi uduk.",
               "Dikemas dalam karung vakum agar tetap segar dan tidak berkutu selama penyimpanan.",
               "Pembelian 5 karung atau lebih mendapat harga grosir."],
        "en": ["Hand-picked {jenis} rice from farmers in {asal}, soft and fragrant when cooked.",
               "Freshly milled with no bleach and no artificial fragrance.",
               "Great for everyday steamed rice, nasi liwet or coconut rice.",
               "Vacuum packed so it stays fresh and free of weevils in storage."],
    },
    attrs={"id": {"asal": "{asal}", "jenis": "{jenis}"}, "en": {"origin": "{asal}", "type": "{jenis}"}},
    price=(62000, 82000),
    axes=[(K_WEIGHT, [("1 kg", "1 kg", 0.23, 1020), ("5 kg", "5 kg", 1.0, 5050),
                      ("10 kg", "10 kg", 1.95, 10100), ("25 kg", "25 kg", 4.75, 25200)], (1, 3))],
)

family(
    code="MYK", cat="c-beras-minyak", n=7,
    merchants=[("m-berkah-jaya", 3), ("m-dapur-bu-rini", 1)],
    brands=["Kilau", "Tropika Gold", "Sawit Mas", "Kelapa Dua", "Dapur Emas"],
    slots={"tipe": [("Sawit", "Palm", 1.0), ("Kelapa", "Coconut", 1.6), ("Kelapa Murni VCO", "Virgin Coconut", 4.5),
                    ("Jagung", "Corn", 1.8), ("Kanola", "Canola", 2.0)]},
    title={"id": "Minyak Goreng {tipe} {merek}", "en": "{merek} {tipe} Cooking Oil"},
    desc={"id": ["Minyak goreng {tipe} dua kali penyaringan, jernih dan tidak cepat keruh.",
                 "Tidak berbau saat dipakai menggoreng berulang, cocok untuk usaha gorengan.",
                 "Diperkaya vitamin A dan D sesuai SNI.",
                 "Kemasan pouch dan jerigen disegel rapat sehingga aman dalam pengiriman."],
          "en": ["Double-filtered {tipe} cooking oil that stays clear.",
                 "No smell when frying repeatedly, ideal for street-food stalls.",
                 "Fortified with vitamins A and D to the national standard."]},
    attrs={"id": {"jenis": "{tipe}", "sertifikat": "SNI, Halal MUI"}, "en": {"type": "{tipe}", "certification": "SNI, Halal"}},
    price=(16500, 21000),
    axes=[(("volume", "volume"), [("1 liter", "1 litre", 1.0, 950), ("2 liter", "2 litres", 1.92, 1900),
                                  ("5 liter", "5 litres", 4.6, 4750)], (1, 3))],
)

family(
    code="GLA", cat="c-beras-minyak", n=6,
    merchants=[("m-berkah-jaya", 2), ("m-dapur-bu-rini", 1)],
    brands=["Manis Jaya", "Tebu Mas", "Aren Lestari", "Nira Desa"],
    slots={"jenis": [("Aren Asli", "Pure Palm Sugar", 2.0), ("Pasir Putih", "White Cane Sugar", 1.0),
                     ("Kelapa Organik", "Organic Coconut Sugar", 2.4), ("Merah Jawa", "Javanese Brown Sugar", 1.6),
                     ("Aren Cair", "Liquid Palm Sugar", 2.2)],
           "asal": ["Banten", "Kulon Progo", "Banyumas", "Ciamis", "Lampung"]},
    title={"id": "Gula {jenis} {merek}", "en": "{merek} {jenis}"},
    desc={"id": ["Gula {jenis} dari perajin nira di {asal}, manis legit dengan aroma karamel.",
                 "Dibuat tanpa campuran gula pasir dan tanpa pengawet.",
                 "Pas untuk kopi susu gula aren, kolak, dan bumbu masakan Jawa.",
                 "Dikemas ulang secara higienis sebelum dikirim."],
          "en": ["{jenis} from palm sap tappers in {asal}, deep caramel sweetness.",
                 "No refined sugar blended in and no preservatives.",
                 "Perfect for iced palm-sugar coffee, desserts and Javanese cooking."]},
    attrs={"id": {"asal": "{asal}"}, "en": {"origin": "{asal}"}},
    price=(16000, 19000),
    axes=[(K_WEIGHT, [("250 g", "250 g", 0.3, 260), ("500 g", "500 g", 0.55, 510), ("1 kg", "1 kg", 1.0, 1020)], (1, 3))],
)

family(
    code="TPG", cat="c-beras-minyak", n=5,
    merchants=[("m-berkah-jaya", 1)],
    brands=["Cakra Nusa", "Segitiga Mas", "Tani Makmur"],
    slots={"jenis": [("Terigu Protein Tinggi", "High-Protein Wheat Flour", 1.1), ("Terigu Serbaguna", "All-Purpose Flour", 1.0),
                     ("Beras", "Rice Flour", 1.0), ("Tapioka", "Tapioca Starch", 0.9), ("Ketan Putih", "Glutinous Rice Flour", 1.2)]},
    title={"id": "Tepung {jenis} {merek}", "en": "{merek} {jenis}"},
    desc={"id": ["Tepung {jenis} halus tanpa gumpalan untuk kue, gorengan dan roti.",
                 "Hasil adonan lembut dan mengembang sempurna.",
                 "Simpan di wadah tertutup setelah dibuka."],
          "en": ["Fine {jenis} with no lumps, for cakes, fritters and bread.",
                 "Store in an airtight container after opening."]},
    attrs={},
    price=(11000, 16000),
    axes=[(K_WEIGHT, [("500 g", "500 g", 0.55, 510), ("1 kg", "1 kg", 1.0, 1020)], (1, 2))],
)

SAMBAL = [("Bawang", "Garlic Shallot"), ("Cumi Asin", "Salted Squid"), ("Roa Manado", "Manado Smoked Fish"),
          ("Matah Bali", "Balinese Raw Shallot"), ("Teri Medan", "Medan Anchovy"), ("Bajak", "Bajak"),
          ("Ijo Padang", "Padang Green Chilli"), ("Dabu-dabu", "Dabu-dabu"), ("Terasi Bakar", "Toasted Shrimp Paste"),
          ("Baby Cumi Pedas", "Spicy Baby Squid"), ("Tuna Suwir", "Shredded Tuna"), ("Pecel Madiun", "Madiun Peanut")]
family(
    code="SBL", cat="c-bumbu-sambal", n=12,
    merchants=[("m-dapur-bu-rini", 4), ("m-berkah-jaya", 1)],
    brands=["Sambal Juara", "Pedas Nendang", "Rumah Rempah"],
    slots={"jenis": SAMBAL},
    title={"id": "Sambal {jenis} {merek}", "en": "{merek} {jenis} Sambal"},
    title_nb={"id": "Sambal {jenis} Homemade Dapur Bu Rini", "en": "Homemade {jenis} Sambal"},
    desc={"id": ["Sambal {jenis} dimasak kecil-kecilan setiap hari dengan cabai rawit segar dan minyak kelapa.",
                 "Tanpa pengawet, tanpa MSG berlebihan, pedasnya nampol.",
                 "Teman makan nasi hangat, gorengan, mie rebus dan lalapan.",
                 "Toples kaca dilapisi bubble wrap tebal sehingga aman dikirim ke seluruh Indonesia.",
                 "Setelah dibuka simpan di kulkas agar tahan lebih lama."],
          "en": ["Small-batch {jenis} sambal cooked daily with fresh bird's-eye chillies and coconut oil.",
                 "No preservatives and properly spicy.",
                 "Great with warm rice, fritters and noodles.",
                 "Glass jars are double bubble-wrapped for shipping anywhere in Indonesia."]},
    attrs={"id": {"daya tahan": "2 minggu suhu ruang", "halal": "ya"}, "en": {"shelf life": "2 weeks at room temperature", "halal": "yes"}},
    price=(24000, 42000),
    axes=[(K_SIZE, [("150 g", "150 g", 1.0, 350), ("250 g", "250 g", 1.55, 480)], (1, 2)),
          (("level pedas", "spice level"), [("sedang", "medium", 1.0, 0), ("pedas", "hot", 1.0, 0),
                                            ("extra pedas", "extra hot", 1.0, 0)], (1, 2))],
)

family(
    code="BMB", cat="c-bumbu-sambal", n=8,
    merchants=[("m-berkah-jaya", 2), ("m-dapur-bu-rini", 1)],
    brands=["Rumah Rempah", "Bumbu Mbok Sri", "Racik Nusantara"],
    slots={"jenis": [("Rendang", "Rendang"), ("Opor Ayam", "Opor Chicken Curry"), ("Soto Ayam", "Chicken Soto"),
                     ("Rawon", "Rawon Black Beef Soup"), ("Nasi Goreng", "Fried Rice"), ("Gulai", "Gulai Curry"),
                     ("Sate Madura", "Madura Satay"), ("Ayam Goreng Kuning", "Turmeric Fried Chicken"),
                     ("Gudeg", "Gudeg Jackfruit Stew"), ("Pecel", "Pecel Peanut Sauce")]},
    title={"id": "Bumbu {jenis} Instan {merek}", "en": "{merek} {jenis} Spice Paste"},
    title_nb={"id": "Bumbu {jenis} Rumahan Siap Masak", "en": "Homemade {jenis} Spice Paste"},
    desc={"id": ["Bumbu {jenis} siap pakai dari rempah segar yang ditumis sampai matang.",
                 "Cukup tambahkan daging atau ayam dan santan, masakan siap dalam 30 menit.",
                 "Satu bungkus untuk 1 kg daging atau ayam.",
                 "Tanpa pengawet buatan; simpan di tempat sejuk."],
          "en": ["Ready-to-cook {jenis} paste made from fresh spices sautéed until fragrant.",
                 "Just add meat and coconut milk: dinner in 30 minutes.",
                 "One pack seasons 1 kg of meat."]},
    attrs={},
    price=(9000, 18000),
    axes=[(K_PACK, [("1 sachet", "1 sachet", 1.0, 110), ("3 sachet", "3 sachets", 2.85, 320),
                    ("6 sachet", "6 sachets", 5.5, 640)], (1, 3))],
)

family(
    code="KCP", cat="c-bumbu-sambal", n=5,
    merchants=[("m-berkah-jaya", 1)],
    brands=["Cap Bango Mas", "Jempol Emas", "Udang Bangka"],
    slots={"jenis": [("Kecap Manis", "Sweet Soy Sauce", 1.0), ("Saus Sambal", "Chilli Sauce", 0.9),
                     ("Terasi Udang", "Shrimp Paste", 1.3), ("Petis Udang Madura", "Madura Shrimp Paste", 1.4),
                     ("Saus Tiram", "Oyster Sauce", 1.1), ("Kecap Asin", "Light Soy Sauce", 0.9)]},
    title={"id": "{jenis} {merek}", "en": "{merek} {jenis}"},
    desc={"id": ["{jenis} kental dengan rasa gurih manis khas masakan rumahan.",
                 "Dibuat dari kedelai hitam pilihan dan gula kelapa asli.",
                 "Pas untuk semur, sate, nasi goreng dan cocolan."],
          "en": ["Thick {jenis} with a savoury-sweet home-cooking taste.",
                 "Made from selected black soybeans and real coconut sugar."]},
    attrs={},
    price=(12000, 26000),
    axes=[(K_SIZE, [("135 ml", "135 ml", 0.5, 200), ("275 ml", "275 ml", 1.0, 380), ("600 ml", "600 ml", 1.9, 760)], (1, 3))],
)

family(
    code="MIE", cat="c-mie-camilan", n=10,
    merchants=[("m-berkah-jaya", 1)],
    brands=["Mienesia", "Lezatto", "Mie Kita", "Selera Rasa"],
    slots={"jenis": [("Goreng Original", "Original Fried Noodles"), ("Kuah Rasa Soto", "Soto Soup Noodles"),
                     ("Kuah Kari Ayam", "Chicken Curry Soup Noodles"), ("Goreng Rendang", "Rendang Fried Noodles"),
                     ("Goreng Aceh Pedas", "Spicy Aceh Fried Noodles"), ("Kuah Ayam Bawang", "Chicken Onion Soup Noodles"),
                     ("Goreng Jumbo", "Jumbo Fried Noodles"), ("Kuah Baso Sapi", "Beef Meatball Soup Noodles"),
                     ("Goreng Iga Penyet", "Iga Penyet Fried Noodles"), ("Kuah Seblak Jeletot", "Seblak Spicy Soup Noodles")]},
    title={"id": "Mie Instan {merek} {jenis}", "en": "{merek} {jenis} Instant"},
    desc={"id": ["Mie instan {jenis} favorit anak kos, siap dalam 3 menit.",
                 "Bumbu lengkap dengan minyak bawang, kecap dan bawang goreng.",
                 "Beli satu dus lebih hemat untuk stok di rumah.",
                 "Tanggal kedaluwarsa minimal 6 bulan saat dikirim."],
          "en": ["{jenis}, ready in 3 minutes: a student-dorm favourite.",
                 "Comes with seasoning oil, sweet soy sauce and fried shallots.",
                 "Buy a whole carton and save."]},
    attrs={"id": {"berat bersih": "85 g"}, "en": {"net weight": "85 g"}},
    price=(3000, 3800),
    axes=[(K_PACK, [("1 bungkus", "1 pack", 1.0, 90), ("isi 5", "5 packs", 4.9, 450),
                    ("1 dus isi 40", "carton of 40", 36.0, 3700)], (1, 3))],
)

family(
    code="CML", cat="c-mie-camilan", n=15,
    merchants=[("m-dapur-bu-rini", 3), ("m-berkah-jaya", 1), ("m-sari-craft", 1)],
    brands=["Kriuk Nusantara", "Oleh-Oleh Juara", "Camilan Mak Nyus"],
    slots={"jenis": [("Keripik Singkong Balado", "Balado Cassava Chips", 1.0), ("Keripik Tempe Sagu", "Tempeh Chips", 1.1),
                     ("Keripik Pisang Manis", "Sweet Banana Chips", 1.0), ("Kering Kentang Mustofa", "Spicy Potato Sticks", 1.6),
                     ("Basreng Pedas Daun Jeruk", "Spicy Fish Cake Crisps", 1.2), ("Makaroni Pedas", "Spicy Macaroni Crisps", 0.9),
                     ("Rempeyek Kacang", "Peanut Crackers", 1.2), ("Kerupuk Udang Sidoarjo", "Sidoarjo Prawn Crackers", 1.5),
                     ("Emping Melinjo", "Melinjo Crackers", 1.8), ("Bakpia Kacang Hijau", "Mung Bean Bakpia", 1.3),
                     ("Kacang Bawang", "Garlic Peanuts", 1.0), ("Rengginang Terasi", "Shrimp Paste Rice Crackers", 1.1),
                     ("Keripik Kaca Pedas", "Spicy Glass Chips", 0.9)]},
    title={"id": "{jenis} {merek}", "en": "{merek} {jenis}"},
    title_nb={"id": "{jenis} Homemade", "en": "Homemade {jenis}"},
    desc={"id": ["{jenis} renyah dan gurih, digoreng dengan minyak baru setiap produksi.",
                 "Cocok untuk camilan nonton, teman ngopi dan oleh-oleh.",
                 "Dikemas dalam standing pouch zip lock agar tetap renyah.",
                 "Pengiriman aman, kemasan diberi kardus supaya tidak remuk."],
          "en": ["Crispy, savoury {jenis}, fried in fresh oil every batch.",
                 "A great snack with coffee, and a classic souvenir.",
                 "Packed in resealable stand-up pouches so they stay crunchy."]},
    attrs={"id": {"halal": "ya"}, "en": {"halal": "yes"}},
    price=(15000, 28000),
    axes=[(K_WEIGHT, [("100 g", "100 g", 0.55, 130), ("250 g", "250 g", 1.0, 290), ("500 g", "500 g", 1.85, 560)], (1, 3))],
)

# ---- Fashion & Batik ------------------------------------------------------------------------

family(
    code="KMB", cat="c-batik", n=16,
    merchants=[("m-batik-pesona", 3), ("m-sari-craft", 1)],
    brands=["Pesona", "Griya Batik", "Sekar Arum"],
    slots={"teknik": [("Tulis", "Hand-drawn Tulis", 3.0), ("Cap", "Cap Stamped", 1.0), ("Kombinasi Tulis Cap", "Tulis-Cap Combination", 1.6)],
           "motif": BATIK_MOTIFS,
           "lengan": [("Lengan Panjang", "Long Sleeve", 1.15), ("Lengan Pendek", "Short Sleeve", 1.0)],
           "bahan": [("katun primisima", "primisima cotton", 1.0), ("katun prima", "prima cotton", 0.95), ("sutra ATBM", "handwoven silk", 1.25)]},
    title={"id": "Kemeja Batik {teknik} Motif {motif} {lengan}", "en": "{teknik} Batik Shirt {motif} Motif, {lengan}"},
    title_nb={"id": "Kemeja Batik {teknik} Motif {motif} {lengan} Handmade Bantul",
              "en": "Handmade {teknik} Batik Shirt from Bantul, {motif}, {lengan}"},
    desc={"id": ["Kemeja batik {teknik} motif {motif} dengan bahan {bahan} yang adem dan menyerap keringat.",
                 "Dibatik oleh perajin di {city}; setiap lembar memiliki sedikit perbedaan goresan.",
                 "Dilapisi furing di bagian badan sehingga nyaman dipakai ke kantor, kondangan dan acara resmi.",
                 "Cuci dengan tangan menggunakan lerak atau sampo bayi, jangan dijemur di bawah matahari langsung.",
                 "Bukan batik printing: uang kembali dua kali lipat jika terbukti printing."],
          "en": ["A {teknik} batik shirt in the {motif} motif, cut from breathable {bahan}.",
                 "Made by artisans in {city}; every piece is slightly different.",
                 "Fully lined body, comfortable for the office, weddings and formal events.",
                 "Hand wash with a mild shampoo and dry in the shade."]},
    attrs={"id": {"bahan": "{bahan}", "asal": "{city}", "teknik": "batik {teknik}"},
           "en": {"material": "{bahan}", "origin": "{city}", "technique": "{teknik} batik"}},
    price=(265000, 330000),  # Rp250.000 (cap, short sleeve) to about Rp1.400.000 (tulis silk)
    axes=[(K_SIZE, SIZES, (2, 4))],
    weight=280,
)

family(
    code="KBT", cat="c-batik", n=10,
    merchants=[("m-batik-pesona", 2), ("m-sari-craft", 2)],
    brands=["Pesona", "Griya Batik"],
    slots={"teknik": [("Tulis", "Hand-drawn Tulis", 3.5), ("Cap", "Cap Stamped", 1.0), ("Cap Colet", "Hand-painted Cap", 1.4)],
           "motif": BATIK_MOTIFS,
           "asal": ["Pekalongan", "Lasem", "Solo", "Yogyakarta", "Cirebon", "Madura"]},
    title={"id": "Kain Batik {teknik} {asal} Motif {motif} 2 Meter", "en": "{asal} {teknik} Batik Fabric, {motif}, 2 m"},
    desc={"id": ["Kain batik {teknik} khas {asal} motif {motif}, ukuran 2 meter x 1,15 meter.",
                 "Pewarna alami dan sintetis berkualitas, warna tidak mudah luntur setelah dicuci.",
                 "Bisa dijahit menjadi kemeja, dress, atau dipakai sebagai jarik dan selendang.",
                 "Dikirim terlipat rapi dalam plastik dan kotak sehingga tidak kusut."],
          "en": ["{teknik} batik fabric from {asal} in the {motif} pattern, 2 m x 1.15 m.",
                 "Colourfast dyes that hold up to washing.",
                 "Sew it into a shirt or dress, or wear it as a wrap."]},
    attrs={"id": {"bahan": "katun primisima", "asal": "{asal}", "ukuran": "200 x 115 cm"},
           "en": {"material": "primisima cotton", "origin": "{asal}", "dimensions": "200 x 115 cm"}},
    price=(160000, 320000),
    axes=[(K_COLOUR, BATIK_COLOURS, (1, 4))],
    weight=350,
)

family(
    code="DRB", cat="c-batik", n=9,
    merchants=[("m-batik-pesona", 2), ("m-sari-craft", 1)],
    brands=["Pesona", "Sekar Arum", "Rumah Wastra"],
    slots={"model": [("Dress Batik Wanita", "Women's Batik Dress", 1.2), ("Blouse Batik Modern", "Modern Batik Blouse", 0.9),
                     ("Outer Batik Kimono", "Batik Kimono Outer", 1.0), ("Rok Lilit Batik", "Batik Wrap Skirt", 0.8),
                     ("Tunik Batik", "Batik Tunic", 1.0)],
           "motif": BATIK_MOTIFS},
    title={"id": "{model} Motif {motif} {merek}", "en": "{merek} {model}, {motif} Motif"},
    title_nb={"id": "{model} Motif {motif} Handmade", "en": "Handmade {model}, {motif} Motif"},
    desc={"id": ["{model} motif {motif} dengan potongan modern yang tetap sopan.",
                 "Bahan katun rayon jatuh dan tidak menerawang, nyaman untuk cuaca panas.",
                 "Tersedia ukuran S sampai XL; lihat tabel ukuran di foto sebelum membeli."],
          "en": ["{model} in the {motif} motif with a modern cut.",
                 "Flowy cotton-rayon that is never see-through, cool in hot weather.",
                 "Check the size chart in the photos before buying."]},
    attrs={"id": {"bahan": "katun rayon"}, "en": {"material": "cotton rayon"}},
    price=(180000, 420000),
    axes=[(K_SIZE, SIZES[:4], (2, 4))],
    weight=260,
)

family(
    code="BSM", cat="c-busana-muslim", n=15,
    merchants=[("m-batik-pesona", 2), ("m-sari-craft", 1), ("m-lapak-budi", 1)],
    brands=["Pesona", "Syar'i Indah", "Nurul Busana"],
    slots={"model": [("Gamis Syar'i Polos", "Plain Syar'i Abaya", 2.0), ("Hijab Segi Empat Voal", "Voile Square Hijab", 0.4),
                     ("Baju Koko Bordir", "Embroidered Koko Shirt", 1.3), ("Sarung Tenun Goyor", "Goyor Woven Sarong", 1.6),
                     ("Mukena Katun Bali", "Balinese Cotton Prayer Set", 1.5), ("Pashmina Ceruty", "Ceruty Pashmina", 0.35),
                     ("Peci Rajut Premium", "Premium Knitted Cap", 0.3), ("Gamis Batik Kombinasi", "Batik Panel Abaya", 2.1)]},
    title={"id": "{model} {merek}", "en": "{merek} {model}"},
    title_nb={"id": "{model} Murah Berkualitas", "en": "{model}, Great Value"},
    desc={"id": ["{model} dengan jahitan rapi dan bahan yang adem dipakai seharian.",
                 "Cocok untuk Lebaran, pengajian dan ibadah sehari-hari.",
                 "Warna sesuai foto; perbedaan sedikit karena cahaya layar.",
                 "Pembelian lebih dari 6 pcs mendapat harga reseller."],
          "en": ["{model} with neat stitching and fabric that stays cool all day.",
                 "Lovely for Eid, study circles and daily prayers.",
                 "Resellers: buy 6 or more for a wholesale price."]},
    attrs={},
    price=(90000, 160000),
    axes=[(K_COLOUR, COLOURS, (1, 4))],
    weight=300,
)

# ---- Kopi & Minuman -------------------------------------------------------------------------

family(
    code="KPB", cat="c-kopi", n=22,
    merchants=[("m-kopi-nusantara", 5), ("m-berkah-jaya", 1)],
    brands=["Nusantara Coffee", "Roemah Kopi", "Kebun Atas"],
    slots={"asal": COFFEE_ORIGINS,
           "proses": [("Full Wash", "Washed"), ("Natural", "Natural"), ("Honey", "Honey"),
                      ("Wine", "Wine Process"), ("Giling Basah", "Wet Hulled")],
           "roast": [("Light", "Light"), ("Medium", "Medium"), ("Medium Dark", "Medium-Dark"), ("Dark", "Dark")]},
    title={"id": "Kopi {asal} {proses} {roast} Roast – Biji Kopi {asal_x[bean_t]}",
           "en": "{asal} {proses} Coffee Beans, {roast} Roast"},
    desc={"id": ["Kopi {asal_x[bean]} single origin dari {asal}, ditanam di ketinggian {asal_x[alt]} mdpl.",
                 "Proses {proses} dengan catatan rasa {asal_x[note_id]}.",
                 "Disangrai setiap Senin dan Kamis di {city} lalu langsung dikirim.",
                 "Enak diseduh V60, tubruk, french press maupun espresso; pilih gilingan sesuai alat seduh.",
                 "Kemasan ziplock dengan one-way valve menjaga aroma sampai 3 bulan."],
          "en": ["Single-origin {asal_x[bean_en]} from {asal}, grown at {asal_x[alt_en]} m above sea level.",
                 "{proses} process with notes of {asal_x[note_en]}.",
                 "Roasted twice a week in {city} and shipped the next day.",
                 "Best brewed as pour-over or French press; also shines as espresso.",
                 "Resealable bag with a one-way valve keeps it fresh for 3 months."]},
    attrs={"id": {"asal": "{asal}", "proses": "{proses}", "roast": "{roast}", "jenis": "{asal_x[bean]}"},
           "en": {"origin": "{asal}", "process": "{proses}", "roast": "{roast}", "species": "{asal_x[bean_en]}"}},
    price=(80000, 130000),
    axes=[(K_WEIGHT, [("200 g", "200 g", 1.0, 230), ("500 g", "500 g", 2.3, 540), ("1 kg", "1 kg", 4.3, 1060)], (1, 2)),
          (("gilingan", "grind"), [("biji utuh", "whole bean", 1.0, 0), ("halus (espresso/tubruk)", "fine (espresso)", 1.0, 0),
                                   ("sedang (V60)", "medium (pour-over)", 1.0, 0)], (1, 2))],
)

family(
    code="DRP", cat="c-kopi", n=7,
    merchants=[("m-kopi-nusantara", 1)],
    brands=["Nusantara Coffee", "Kebun Atas"],
    slots={"asal": COFFEE_ORIGINS[:9]},
    title={"id": "Drip Bag Kopi {asal} Arabika", "en": "{asal} Arabica Drip Bags"},
    desc={"id": ["Kopi {asal} dalam drip bag praktis: sobek, gantung di cangkir, tuang air panas 150 ml.",
                 "Seduhan ala manual brew tanpa alat, cocok dibawa ke kantor atau mendaki.",
                 "Catatan rasa {asal_x[note_id]}.",
                 "Setiap kantong berisi 12 g kopi giling sedang yang dikemas nitrogen."],
          "en": ["{asal} coffee in handy drip bags: tear, hang on your cup, pour 150 ml of hot water.",
                 "Pour-over quality with no gear, great for the office or a hike.",
                 "Tasting notes: {asal_x[note_en]}.",
                 "Each bag holds 12 g of nitrogen-flushed medium-ground coffee, brewed in 3 minutes."]},
    attrs={"id": {"asal": "{asal}"}, "en": {"origin": "{asal}"}},
    price=(70000, 95000),
    axes=[(K_PACK, [("isi 5", "5 bags", 0.55, 90), ("isi 10", "10 bags", 1.0, 170), ("isi 20", "20 bags", 1.9, 330)], (1, 3))],
)

family(
    code="KPS", cat="c-kopi", n=6,
    merchants=[("m-kopi-nusantara", 2), ("m-dapur-bu-rini", 1)],
    brands=["Nusantara Coffee", "Kopi Mbok Darmi"],
    slots={"jenis": [("Kopi Susu Gula Aren 1 Liter", "Palm Sugar Iced Latte 1 L", 1.0),
                     ("Cold Brew Kopi Gayo 1 Liter", "Gayo Cold Brew 1 L", 1.1),
                     ("Kopi Tubruk Bubuk Robusta", "Robusta Tubruk Ground Coffee", 0.5),
                     ("Kopi Jahe Rempah Instan", "Ginger Spice Instant Coffee", 0.45),
                     ("Kopi Luwak Liar Bubuk", "Wild Civet Ground Coffee", 4.0)]},
    title={"id": "{jenis} {merek}", "en": "{merek} {jenis}"},
    title_nb={"id": "{jenis} Rumahan", "en": "Homemade {jenis}"},
    desc={"id": ["{jenis} diracik dari kopi lokal dan gula aren asli.",
                 "Diseduh dingin selama 16 jam sehingga rasa lebih halus dan tidak asam.",
                 "Simpan di kulkas, tahan 5 hari setelah diterima.",
                 "Pengiriman instan untuk area kota yang sama."],
          "en": ["{jenis} blended from local coffee and real palm sugar.",
                 "Cold brewed for 16 hours for a smooth, low-acid cup.",
                 "Keep refrigerated; best within 5 days of delivery."]},
    attrs={},
    price=(60000, 90000),
    axes=[(K_VARIANT, [("reguler", "regular", 1.0, 1100), ("less sugar", "less sugar", 1.0, 1100)], (1, 2))],
)

family(
    code="TEH", cat="c-teh-minuman", n=15,
    merchants=[("m-kopi-nusantara", 1), ("m-berkah-jaya", 2), ("m-sari-craft", 1)],
    brands=["Teh Slawi Wangi", "Kebun Atas", "Cap Dua Tang Hijau", "Jamu Mbok Jum"],
    slots={"jenis": [("Teh Tubruk Melati", "Jasmine Loose-Leaf Tea", 1.0), ("Teh Hijau Sencha Garut", "Garut Sencha Green Tea", 1.6),
                     ("Teh Rosella Kering", "Dried Roselle Tea", 1.4), ("Jahe Merah Instan", "Instant Red Ginger", 1.2),
                     ("Wedang Uwuh Yogya", "Wedang Uwuh Spice Drink", 1.1), ("Sirup Markisa Medan", "Medan Passion Fruit Syrup", 1.5),
                     ("Kunyit Asam Siap Minum", "Turmeric Tamarind Drink", 0.9), ("Teh Putih Silver Needle", "Silver Needle White Tea", 4.0),
                     ("Bandrek Susu Instan", "Instant Bandrek Ginger Milk", 1.0)]},
    title={"id": "{jenis} {merek}", "en": "{merek} {jenis}"},
    title_nb={"id": "{jenis} Racikan Sendiri", "en": "Hand-blended {jenis}"},
    desc={"id": ["{jenis} dari bahan pilihan, diseduh hangat maupun dingin sama nikmatnya.",
                 "Tanpa pemanis buatan dan tanpa pewarna.",
                 "Minuman tradisional untuk menghangatkan badan saat musim hujan.",
                 "Dikirim dalam kemasan rapat agar aroma tetap terjaga."],
          "en": ["{jenis} from selected ingredients, lovely hot or iced.",
                 "No artificial sweeteners or colours.",
                 "A traditional drink to warm you up in the rainy season."]},
    attrs={},
    price=(18000, 35000),
    axes=[(K_SIZE, [("kecil", "small", 1.0, 120), ("sedang", "medium", 1.8, 260), ("besar", "large", 3.2, 520)], (1, 3))],
)

# ---- Handphone & Tablet ---------------------------------------------------------------------

family(
    code="HP", cat="c-smartphone", n=16, unique_slot="model",
    merchants=[("m-gadget-hub", 3), ("m-sinar-elektronik", 2)],
    slots={"model": PHONE_MODELS},
    brand_slot="model",
    title={"id": "HP {model} Layar {model_x[scr]} Inci Garansi Resmi", "en": "{model} Smartphone, Official Warranty"},
    desc={"id": ["Smartphone {model} dengan layar {model_x[scr]} inci {model_x[hz]}Hz dan prosesor {model_x[chip]}.",
                 "Baterai {model_x[bat]} mAh dengan pengisian cepat {model_x[w]}W, awet seharian untuk main game dan streaming.",
                 "Kamera utama {model_x[cam]} MP dengan mode malam dan perekaman video 4K.",
                 "Bergaransi resmi 1 tahun, IMEI terdaftar Kemenperin sehingga aman dipakai dengan kartu SIM Indonesia.",
                 "Paket pembelian: unit, charger, kabel USB-C, casing bening dan buku manual."],
          "en": ["The {model} packs a {model_x[scr_en]}-inch {model_x[hz]} Hz display and a {model_x[chip_en]} processor.",
                 "A {model_x[bat]} mAh battery with {model_x[w]} W fast charging lasts all day of gaming and streaming.",
                 "{model_x[cam]} MP main camera with night mode and 4K video.",
                 "One of the best value phones in its class; IMEI registered for Indonesian SIM cards.",
                 "In the box: phone, charger, USB-C cable, clear case and manual."]},
    attrs={"id": {"layar": "{model_x[scr]} inci", "baterai": "{model_x[bat]} mAh", "garansi": "1 tahun resmi"},
           "en": {"screen": "{model_x[scr_en]} inch", "battery": "{model_x[bat]} mAh", "warranty": "1 year official"}},
    price=(1.0, 1.0),
    axes="phone",
    weight=420,
)

family(
    code="TAB", cat="c-smartphone", n=5,
    merchants=[("m-gadget-hub", 2), ("m-sinar-elektronik", 1)],
    slots={"model": [{"id": "Lumora Tab A9", "en": "Lumora Tab A9", "p": 2.4e6, "brand": "Lumora", "scr": "8,7"},
                     {"id": "Lumora Tab S9 FE", "en": "Lumora Tab S9 FE", "p": 6.9e6, "brand": "Lumora", "scr": "10,9"},
                     {"id": "Orbis Pad 6", "en": "Orbis Pad 6", "p": 4.6e6, "brand": "Orbis", "scr": "11"},
                     {"id": "Orbis Pad SE", "en": "Orbis Pad SE", "p": 2.5e6, "brand": "Orbis", "scr": "11"},
                     {"id": "Kinetik Tab 10 Kids", "en": "Kinetik Tab 10 Kids", "p": 1.6e6, "brand": "Kinetik", "scr": "10,1"},
                     {"id": "Nusaphone Pad 12", "en": "Nusaphone Pad 12", "p": 5.4e6, "brand": "Nusaphone", "scr": "12"}]},
    unique_slot="model",
    brand_slot="model",
    title={"id": "Tablet {model} Layar {model_x[scr]} Inci", "en": "{model} {model_x[scr_en]}-inch Tablet"},
    desc={"id": ["Tablet {model} layar {model_x[scr]} inci untuk belajar online, kerja dan nonton.",
                 "Mendukung stylus dan keyboard cover (dijual terpisah).",
                 "Bergaransi resmi 1 tahun di seluruh service center Indonesia."],
          "en": ["The {model} has a big {model_x[scr_en]}-inch screen for online classes, work and movies.",
                 "Supports a stylus and keyboard cover (sold separately).",
                 "Official 1-year warranty at service centres across Indonesia."]},
    attrs={"id": {"layar": "{model_x[scr]} inci", "garansi": "1 tahun resmi"}, "en": {"screen": "{model_x[scr_en]} inch", "warranty": "1 year official"}},
    price=(1.0, 1.0),
    axes=[(("memori", "memory"), [("4/64 GB", "4 GB + 64 GB", 1.0, 0), ("6/128 GB", "6 GB + 128 GB", 1.15, 0),
                                  ("8/256 GB", "8 GB + 256 GB", 1.35, 0)], (1, 2)),
          (K_COLOUR, [("abu-abu", "graphite", 1.0, 0), ("silver", "silver", 1.0, 0), ("biru", "blue", 1.0, 0)], (1, 2))],
    weight=780,
)

family(
    code="AKS", cat="c-aksesoris-hp", n=25,
    merchants=[("m-gadget-hub", 3), ("m-sinar-elektronik", 2), ("m-lapak-budi", 2)],
    brands=["Voltra", "Ampera", "Lumora", "Kabelku", "Nusaphone"],
    slots={"item": [
        {"id": "Power Bank 10000 mAh 22,5W", "en": "10,000 mAh 22.5 W Power Bank", "p": 185000, "w": 230},
        {"id": "Power Bank 20000 mAh PD 65W", "en": "20,000 mAh 65 W PD Power Bank", "p": 420000, "w": 420},
        {"id": "Charger GaN 33W USB-C", "en": "33 W GaN USB-C Charger", "p": 129000, "w": 90},
        {"id": "Charger GaN 65W 3 Port", "en": "65 W 3-Port GaN Charger", "p": 299000, "w": 140},
        {"id": "Kabel Data USB-C ke USB-C 1 Meter", "en": "USB-C to USB-C Cable 1 m", "p": 39000, "w": 40},
        {"id": "Kabel Data Lightning Braided 2 Meter", "en": "Braided Lightning Cable 2 m", "p": 59000, "w": 60},
        {"id": "Casing Silikon Anti Crack", "en": "Shockproof Silicone Case", "p": 35000, "w": 50},
        {"id": "Tempered Glass Full Cover 9H", "en": "9H Full-Cover Tempered Glass", "p": 25000, "w": 40},
        {"id": "Holder HP Motor Anti Getar", "en": "Anti-Vibration Motorbike Phone Holder", "p": 89000, "w": 180},
        {"id": "Tripod Ring Light 26 cm", "en": "26 cm Ring Light Tripod", "p": 145000, "w": 900},
        {"id": "MicroSD 128 GB Class 10", "en": "128 GB microSD Card", "p": 149000, "w": 20},
        {"id": "Wireless Charger 15W Magnetik", "en": "15 W Magnetic Wireless Charger", "p": 175000, "w": 120},
        {"id": "Tongsis Bluetooth dengan Remote", "en": "Bluetooth Selfie Stick with Remote", "p": 79000, "w": 200},
        {"id": "Stylus Pen Universal", "en": "Universal Stylus Pen", "p": 99000, "w": 40},
    ]},
    title={"id": "{item} {merek}", "en": "{merek} {item}"},
    title_nb={"id": "{item} Murah Bergaransi Toko", "en": "{item}, Store Warranty"},
    desc={"id": ["{item} dengan proteksi arus berlebih dan suhu, aman untuk semua merek HP.",
                 "Kompatibel dengan HP Android dan iPhone keluaran terbaru.",
                 "Bergaransi 6 bulan tukar baru jika rusak bukan karena pemakaian.",
                 "Barang dites sebelum dikirim; pengiriman dibungkus kardus dan bubble wrap."],
          "en": ["{item} with over-current and over-heat protection, safe for all brands.",
                 "Works with Android phones and the latest iPhones.",
                 "6-month replacement warranty.",
                 "Every unit is tested before shipping and packed in a box with bubble wrap."]},
    attrs={"id": {"garansi": "6 bulan"}, "en": {"warranty": "6 months"}},
    price=(1.0, 1.0),
    axes=[(K_COLOUR, [("hitam", "black", 1.0, 0), ("putih", "white", 1.0, 0), ("biru", "blue", 1.0, 0),
                      ("pink", "pink", 1.0, 0)], (1, 3))],
)

# ---- Elektronik -----------------------------------------------------------------------------

family(
    code="ELR", cat="c-elektronik-rumah", n=25,
    merchants=[("m-sinar-elektronik", 4), ("m-gadget-hub", 1), ("m-lapak-budi", 1)],
    brands=["Cosmora", "Miyako Jaya", "Sanken Nusa", "Maspion Prima", "Denpoo Lestari", "Kirin Home"],
    slots={"item": [
        {"id": "Rice Cooker Digital 1,8 Liter", "en": "1.8 L Digital Rice Cooker", "p": 520000, "w": 3200},
        {"id": "Magic Com 1,2 Liter 3in1", "en": "1.2 L 3-in-1 Rice Cooker", "p": 265000, "w": 2500},
        {"id": "Kipas Angin Berdiri 16 Inch", "en": "16-inch Stand Fan", "p": 285000, "w": 5200},
        {"id": "Kipas Angin Dinding 16 Inch Remote", "en": "16-inch Wall Fan with Remote", "p": 345000, "w": 4200},
        {"id": "Kipas Angin Meja Mini USB", "en": "Mini USB Desk Fan", "p": 79000, "w": 450},
        {"id": "Blender Kaca 2 Liter", "en": "2 L Glass Blender", "p": 389000, "w": 3400},
        {"id": "Air Fryer 4 Liter Digital", "en": "4 L Digital Air Fryer", "p": 749000, "w": 4800},
        {"id": "Setrika Uap Keramik", "en": "Ceramic Steam Iron", "p": 229000, "w": 1300},
        {"id": "Dispenser Air Galon Bawah", "en": "Bottom-Load Water Dispenser", "p": 1450000, "w": 14000},
        {"id": "Mixer Roti 5 Kecepatan", "en": "5-Speed Hand Mixer", "p": 219000, "w": 1400},
        {"id": "Lampu Emergency LED Rechargeable", "en": "Rechargeable LED Emergency Lamp", "p": 89000, "w": 400},
        {"id": "Vacuum Cleaner Cordless", "en": "Cordless Vacuum Cleaner", "p": 1190000, "w": 3100},
        {"id": "Kompor Listrik Induksi", "en": "Induction Cooktop", "p": 599000, "w": 2900},
        {"id": "Teko Listrik Stainless 1,7 Liter", "en": "1.7 L Stainless Electric Kettle", "p": 159000, "w": 1200},
        {"id": "Penanak Nasi Low Carb", "en": "Low-Carb Rice Cooker", "p": 1150000, "w": 4200},
    ]},
    title={"id": "{item} {merek}", "en": "{merek} {item}"},
    title_nb={"id": "{item} Bekas Mulus Fungsi Normal", "en": "{item}, Pre-owned, Works Perfectly"},
    desc={"id": ["{item} hemat listrik, cocok untuk daya rumah 450–900 VA.",
                 "Bodi kokoh dengan pengaman panas berlebih.",
                 "Bergaransi resmi 1 tahun, service center di kota besar seluruh Indonesia.",
                 "Barang besar dikirim via kargo; packing kayu gratis untuk pengiriman luar pulau.",
                 "Pembelian sebelum pukul 14.00 dikirim di hari yang sama."],
          "en": ["Energy-efficient {item}, fine on a 450–900 VA household supply.",
                 "Sturdy body with overheat protection.",
                 "Official 1-year warranty with service centres in major cities.",
                 "Bulky items ship by cargo; free wooden crating for inter-island shipping."]},
    attrs={"id": {"garansi": "1 tahun", "daya": "sesuai spesifikasi"}, "en": {"warranty": "1 year", "power": "see specification"}},
    price=(1.0, 1.0),
    axes=[(K_COLOUR, [("putih", "white", 1.0, 0), ("hitam", "black", 1.03, 0), ("abu-abu", "grey", 1.0, 0),
                      ("hijau sage", "sage green", 1.05, 0)], (1, 3))],
)

family(
    code="AUD", cat="c-audio", n=20,
    merchants=[("m-gadget-hub", 3), ("m-sinar-elektronik", 2)],
    brands=["Sonara", "Voltra", "Lumora", "Auralis", "Kinetik"],
    slots={"item": [
        {"id": "TWS Earbuds ANC Bluetooth 5.3", "en": "ANC True Wireless Earbuds, Bluetooth 5.3", "p": 449000, "w": 150},
        {"id": "TWS Earbuds Gaming Low Latency", "en": "Low-Latency Gaming Earbuds", "p": 219000, "w": 140},
        {"id": "Earbuds Pro Hi-Res LDAC", "en": "Pro Hi-Res LDAC Earbuds", "p": 1390000, "w": 160},
        {"id": "Headphone Bluetooth Over Ear", "en": "Over-Ear Bluetooth Headphones", "p": 599000, "w": 380},
        {"id": "Speaker Bluetooth Portable IPX7", "en": "IPX7 Portable Bluetooth Speaker", "p": 379000, "w": 650},
        {"id": "Soundbar 2.1 Subwoofer 120W", "en": "120 W 2.1 Soundbar with Subwoofer", "p": 1490000, "w": 5600},
        {"id": "Smartwatch AMOLED GPS", "en": "AMOLED GPS Smartwatch", "p": 899000, "w": 180},
        {"id": "Smart Band Monitor Detak Jantung", "en": "Heart-Rate Smart Band", "p": 299000, "w": 90},
        {"id": "Mikrofon Wireless Clip-On", "en": "Wireless Clip-On Microphone", "p": 259000, "w": 200},
        {"id": "Speaker Karaoke Portable 12 Inch", "en": "12-inch Portable Karaoke Speaker", "p": 1250000, "w": 9500},
    ]},
    title={"id": "{item} {merek}", "en": "{merek} {item}"},
    desc={"id": ["{item} dengan suara jernih dan bass bertenaga.",
                 "Baterai tahan hingga 30 jam dengan casing pengisi daya.",
                 "Terhubung otomatis ke HP begitu casing dibuka.",
                 "Bergaransi resmi 1 tahun; pengiriman dari gudang {city}."],
          "en": ["{item} with crisp sound and punchy bass.",
                 "Up to 30 hours of battery life with the charging case.",
                 "Pairs with your phone the moment you open the case; works with Android phones and iPhones.",
                 "Official 1-year warranty, shipping from our {city} warehouse."]},
    attrs={"id": {"garansi": "1 tahun", "konektivitas": "Bluetooth 5.3"}, "en": {"warranty": "1 year", "connectivity": "Bluetooth 5.3"}},
    price=(1.0, 1.0),
    axes=[(K_COLOUR, [("hitam", "black", 1.0, 0), ("putih", "white", 1.0, 0), ("biru navy", "navy blue", 1.0, 0),
                      ("krem", "cream", 1.0, 0)], (1, 3))],
)

# ---- Rumah Tangga ---------------------------------------------------------------------------

family(
    code="DPR", cat="c-dapur", n=18,
    merchants=[("m-lapak-budi", 3), ("m-berkah-jaya", 1), ("m-sinar-elektronik", 1)],
    brands=["Dapurku", "Maspion Prima", "Kirin Home", "Cobek Merapi"],
    slots={"item": [
        {"id": "Wajan Anti Lengket 28 cm", "en": "28 cm Non-Stick Wok", "p": 159000, "w": 1100},
        {"id": "Panci Set Stainless 5 Pcs", "en": "5-Piece Stainless Pot Set", "p": 389000, "w": 4200},
        {"id": "Cobek Batu Merapi Asli 20 cm", "en": "20 cm Merapi Stone Mortar", "p": 95000, "w": 3500},
        {"id": "Dandang Kukusan Aluminium 26 cm", "en": "26 cm Aluminium Steamer Pot", "p": 135000, "w": 1500},
        {"id": "Rantang Susun Stainless 4 Tingkat", "en": "4-Tier Stainless Tiffin Carrier", "p": 119000, "w": 900},
        {"id": "Botol Minum Tumbler 750 ml", "en": "750 ml Insulated Tumbler", "p": 89000, "w": 400},
        {"id": "Termos Nasi Penghangat", "en": "Rice Warmer Flask", "p": 149000, "w": 1300},
        {"id": "Talenan Kayu Jati", "en": "Teak Cutting Board", "p": 79000, "w": 1200},
        {"id": "Set Pisau Dapur 6 Pcs", "en": "6-Piece Kitchen Knife Set", "p": 169000, "w": 1000},
        {"id": "Toples Kaca Kedap Udara 1 Liter", "en": "1 L Airtight Glass Jar", "p": 45000, "w": 700},
        {"id": "Kotak Bekal Microwave Safe", "en": "Microwave-Safe Lunch Box", "p": 59000, "w": 350},
        {"id": "Parutan Kelapa Stainless", "en": "Stainless Coconut Grater", "p": 39000, "w": 300},
    ]},
    title={"id": "{item} {merek}", "en": "{merek} {item}"},
    title_nb={"id": "{item} Murah Kualitas Bagus", "en": "{item}, Good Quality"},
    desc={"id": ["{item} untuk dapur rumah maupun usaha katering.",
                 "Bahan tebal, tahan lama dan mudah dibersihkan.",
                 "Aman untuk makanan (food grade) dan bebas BPA.",
                 "Barang dicek satu per satu sebelum dikirim; packing dus tebal."],
          "en": ["{item} for home kitchens and small caterers.",
                 "Thick, durable and easy to clean.",
                 "Food-grade and BPA-free."]},
    attrs={"id": {"bahan": "food grade"}, "en": {"material": "food grade"}},
    price=(1.0, 1.0),
    axes=[(K_COLOUR, [("silver", "silver", 1.0, 0), ("hitam", "black", 1.0, 0), ("merah", "red", 1.0, 0),
                      ("hijau tosca", "teal", 1.0, 0)], (1, 3))],
)

family(
    code="KBR", cat="c-kebersihan", n=12,
    merchants=[("m-lapak-budi", 2), ("m-berkah-jaya", 2)],
    brands=["Bersih Kilat", "Sapu Lidi Jaya", "Harum Sari", "Kirin Home"],
    slots={"item": [
        {"id": "Sabun Cuci Piring Jeruk Nipis Refill", "en": "Lime Dish Soap Refill", "p": 18000, "w": 800},
        {"id": "Deterjen Cair Konsentrat", "en": "Concentrated Liquid Detergent", "p": 32000, "w": 1600},
        {"id": "Pembersih Lantai Sereh", "en": "Lemongrass Floor Cleaner", "p": 21000, "w": 850},
        {"id": "Sapu Ijuk Gagang Aluminium", "en": "Palm-Fibre Broom, Aluminium Handle", "p": 35000, "w": 600},
        {"id": "Alat Pel Putar Spin Mop", "en": "Spin Mop with Bucket", "p": 139000, "w": 2600},
        {"id": "Kain Lap Microfiber isi 5", "en": "Microfibre Cloths, 5 Pack", "p": 29000, "w": 200},
        {"id": "Pengharum Ruangan Gel Melati", "en": "Jasmine Gel Air Freshener", "p": 15000, "w": 220},
        {"id": "Kantong Sampah Roll Besar", "en": "Large Rubbish Bags Roll", "p": 17000, "w": 350},
        {"id": "Sikat WC Gagang Panjang", "en": "Long-Handle Toilet Brush", "p": 25000, "w": 300},
        {"id": "Pembasmi Nyamuk Elektrik", "en": "Electric Mosquito Repeller", "p": 45000, "w": 180},
    ]},
    title={"id": "{item} {merek}", "en": "{merek} {item}"},
    title_nb={"id": "{item} Grosir Murah", "en": "{item}, Wholesale"},
    desc={"id": ["{item} ampuh mengangkat noda dan kotoran membandel.",
                 "Wangi segar tahan lama, aman untuk keluarga.",
                 "Beli banyak lebih hemat; pengiriman cepat dari gudang.",
                 "Kemasan disegel dan dilapisi plastik agar tidak bocor selama pengiriman."],
          "en": ["{item} that lifts stubborn stains and grime.",
                 "Long-lasting fresh scent, safe for the family.",
                 "Sealed and wrapped so nothing leaks during shipping."]},
    attrs={},
    price=(1.0, 1.0),
    axes=[(K_PACK, [("1 pcs", "1 pc", 1.0, 0), ("isi 3", "3 pack", 2.8, 0), ("isi 6", "6 pack", 5.4, 0)], (1, 3))],
)

# ---- Kecantikan -----------------------------------------------------------------------------

family(
    code="SKN", cat="c-skincare", n=25,
    merchants=[("m-bali-glow", 4), ("m-sari-craft", 1)],
    brands=["Bali Glow", "Sekar Jagad Beauty", "Kirana Skin", "Nusa Botanica"],
    slots={"item": [
        {"id": "Serum Niacinamide 10% 30 ml", "en": "10% Niacinamide Serum 30 ml", "p": 89000, "w": 90},
        {"id": "Sunscreen SPF 50 PA++++ 50 ml", "en": "SPF 50 PA++++ Sunscreen 50 ml", "p": 75000, "w": 80},
        {"id": "Sabun Cuci Muka Centella", "en": "Centella Gentle Cleanser", "p": 59000, "w": 150},
        {"id": "Toner Air Mawar Alami", "en": "Natural Rose Water Toner", "p": 49000, "w": 180},
        {"id": "Masker Lumpur Vulkanik Bali", "en": "Bali Volcanic Clay Mask", "p": 69000, "w": 160},
        {"id": "Lulur Bali Boreh Rempah", "en": "Balinese Boreh Spice Body Scrub", "p": 55000, "w": 260},
        {"id": "Minyak Kemiri Penumbuh Rambut", "en": "Candlenut Hair Growth Oil", "p": 45000, "w": 130},
        {"id": "Body Lotion Kelapa & Frangipani", "en": "Coconut & Frangipani Body Lotion", "p": 65000, "w": 280},
        {"id": "Sabun Batang Herbal Kunyit", "en": "Turmeric Herbal Soap Bar", "p": 25000, "w": 110},
        {"id": "Lip Balm Madu Klanceng", "en": "Stingless-Bee Honey Lip Balm", "p": 35000, "w": 30},
        {"id": "Essential Oil Sereh Wangi 10 ml", "en": "Citronella Essential Oil 10 ml", "p": 39000, "w": 50},
        {"id": "Moisturizer Gel Aloe Vera", "en": "Aloe Vera Gel Moisturiser", "p": 55000, "w": 120},
        {"id": "Sampo Lidah Buaya Tanpa SLS", "en": "SLS-Free Aloe Shampoo", "p": 49000, "w": 320},
    ]},
    title={"id": "{item} {merek}", "en": "{merek} {item}"},
    title_nb={"id": "{item} Handmade Alami", "en": "Handmade Natural {item}"},
    desc={"id": ["{item} dengan bahan alami pilihan dari Bali.",
                 "Cocok untuk kulit sensitif, berminyak maupun kering; bebas paraben dan alkohol.",
                 "Sudah terdaftar BPOM dan bersertifikat halal.",
                 "Gunakan rutin pagi dan malam untuk hasil maksimal.",
                 "Tidak diuji pada hewan (cruelty free)."],
          "en": ["{item} made with natural ingredients sourced in Bali.",
                 "Suits sensitive, oily and dry skin; paraben-free and alcohol-free.",
                 "BPOM-registered and halal certified.",
                 "Use morning and night for best results.",
                 "Cruelty-free and never tested on animals; shipped in plastic-free packaging."]},
    attrs={"id": {"BPOM": "terdaftar", "jenis kulit": "semua jenis kulit"}, "en": {"BPOM": "registered", "skin type": "all skin types"}},
    price=(1.0, 1.0),
    axes=[(K_SIZE, [("travel size", "travel size", 0.55, -30), ("reguler", "regular", 1.0, 0),
                    ("jumbo", "jumbo", 1.8, 120)], (1, 3))],
)

# ---- Olahraga -------------------------------------------------------------------------------

family(
    code="OLR", cat="c-fitness", n=25,
    merchants=[("m-anging-sport", 4), ("m-lapak-budi", 1)],
    brands=["Anging Sport", "Garuda Athletics", "Kinetik Fit", "Pinisi Outdoor"],
    slots={"item": [
        {"id": "Matras Yoga TPE 6 mm", "en": "6 mm TPE Yoga Mat", "p": 169000, "w": 900, "ax": "c"},
        {"id": "Dumbbell Vinyl Sepasang", "en": "Vinyl Dumbbell Pair", "p": 95000, "w": 2000, "ax": "kg"},
        {"id": "Resistance Band Set 5 Level", "en": "5-Level Resistance Band Set", "p": 79000, "w": 300, "ax": "c"},
        {"id": "Tali Skipping Speed Rope", "en": "Speed Jump Rope", "p": 49000, "w": 200, "ax": "c"},
        {"id": "Sepatu Lari Ringan Breathable", "en": "Lightweight Breathable Running Shoes", "p": 459000, "w": 700, "ax": "shoe"},
        {"id": "Kaos Lari Dry Fit", "en": "Dry-Fit Running Tee", "p": 89000, "w": 180, "ax": "s"},
        {"id": "Tas Carrier Gunung 45 Liter", "en": "45 L Hiking Backpack", "p": 549000, "w": 1600, "ax": "c"},
        {"id": "Raket Badminton Carbon", "en": "Carbon Badminton Racket", "p": 289000, "w": 300, "ax": "c"},
        {"id": "Shuttlecock Bulu Angsa isi 12", "en": "Goose-Feather Shuttlecocks, Tube of 12", "p": 115000, "w": 120, "ax": "c"},
        {"id": "Bola Futsal Size 4", "en": "Size 4 Futsal Ball", "p": 199000, "w": 450, "ax": "c"},
        {"id": "Jersey Sepeda Lengan Panjang", "en": "Long-Sleeve Cycling Jersey", "p": 189000, "w": 220, "ax": "s"},
        {"id": "Sarung Tangan Gym", "en": "Gym Gloves", "p": 59000, "w": 120, "ax": "s"},
        {"id": "Tenda Camping 4 Orang", "en": "4-Person Camping Tent", "p": 689000, "w": 3200, "ax": "c"},
    ]},
    title={"id": "{item} {merek}", "en": "{merek} {item}"},
    title_nb={"id": "{item} Second Mulus", "en": "{item}, Lightly Used"},
    desc={"id": ["{item} untuk latihan di rumah, di gym maupun di alam terbuka.",
                 "Material kuat dan ringan, nyaman dipakai berlama-lama.",
                 "Dipakai oleh komunitas lari dan pendaki di {city}.",
                 "Garansi 3 bulan untuk jahitan; tukar ukuran gratis 7 hari setelah pembelian."],
          "en": ["{item} for home workouts, the gym or the great outdoors.",
                 "Tough but light, comfortable for long sessions.",
                 "Trusted by running and hiking clubs in {city}.",
                 "3-month stitching warranty; free size exchange within 7 days."]},
    attrs={},
    price=(1.0, 1.0),
    axes="sport",
)

# --------------------------------------------------------------------------------------------
# Generic closing sentences (one is appended to most descriptions)
# --------------------------------------------------------------------------------------------

CLOSING = {
    "id": [
        "Pesanan dikirim dari {city} di hari yang sama untuk pembelian sebelum pukul 15.00 WIB.",
        "Pengiriman via JNE, J&T atau SiCepat; kurir instan tersedia untuk area {city}.",
        "Setiap pembelian dibungkus rapi dengan bubble wrap agar aman selama pengiriman.",
        "Terima kasih sudah membeli di toko kami, jangan lupa beri ulasan setelah barang diterima.",
        "Barang dicek satu per satu sebelum dikirim.",
        "Bisa bayar di tempat (COD) untuk kota tertentu.",
        "Pembelian grosir? Hubungi kami lewat chat untuk harga khusus.",
        "Stok selalu diperbarui; pesanan diproses otomatis setelah pembayaran diterima.",
    ],
    "en": [
        "Ships from {city} within 24 hours on business days.",
        "Free shipping on orders over Rp150,000 within Java.",
        "Every order is checked and bubble-wrapped before shipping.",
        "Buying in bulk? Message us for wholesale prices.",
        "Cash on delivery available in selected cities.",
        "Thanks for shopping with us, and please leave a review once your order arrives.",
    ],
}

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def norm_slot(v):
    if isinstance(v, str):
        return {"id": v, "en": v, "p": 1.0}
    if isinstance(v, tuple):
        return {"id": v[0], "en": v[1], "p": v[2] if len(v) > 2 else 1.0}
    d = dict(v)
    d.setdefault("p", 1.0)
    if "alt" in d:
        d["alt_en"] = d["alt"].replace(".", ",")  # 1.400 m (id) is 1,400 m (en)
    for k in ("scr", "chip"):
        if k in d:
            d[k + "_en"] = d[k].replace(",", ".")  # 6,5 inci (id) is 6.5 inch (en)
    return d


def weighted(pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for item, w in pairs:
        x -= w
        if x <= 0:
            return item
    return pairs[-1][0]


def nice_idr(x):
    """Round a rupiah amount the way Indonesian shops price things (whole rupiah)."""
    x = max(1000.0, x)
    if x < 10000:
        return int(round(x / 100.0)) * 100
    if x < 100000:
        v = int(round(x / 500.0)) * 500
        return v - 100 if rng.random() < 0.3 else v
    if x < 1000000:
        v = int(round(x / 1000.0)) * 1000
        return v - 100 if rng.random() < 0.35 else v
    v = int(round(x / 10000.0)) * 10000
    return v - 1000 if rng.random() < 0.4 else v


def money(amount, currency="IDR"):
    return {"amount": str(amount), "currency": currency}


def usd_of(idr):
    cents = int(round(idr * 100 / USD_RATE))
    return "%d.%02d" % (cents // 100, cents % 100)


def ts(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def clean(s):
    return " ".join(s.replace(" ,", ",").split())


def pick_options(opts, lo_hi):
    lo, hi = lo_hi
    k = rng.randint(lo, min(hi, len(opts)))
    idx = sorted(rng.sample(range(len(opts)), k))
    return [opts[i] for i in idx]


def axes_for(fam, vals):
    """The option axes of one product (some families depend on the product)."""
    ax = fam["axes"]
    if ax == "phone":
        tier = RAM_TIERS[vals["model"]["ram"]]
        return [(("memori", "memory"), tier, (1, 3)), (K_COLOUR, PHONE_COLOURS, (1, 2))]
    if ax == "sport":
        kind = vals["item"]["ax"]
        if kind == "kg":
            return [(K_WEIGHT, [("2 x 1 kg", "2 x 1 kg", 1.0, 2000), ("2 x 3 kg", "2 x 3 kg", 2.4, 6000),
                                ("2 x 5 kg", "2 x 5 kg", 3.6, 10000)], (1, 3))]
        if kind == "shoe":
            return [(K_SIZE, [(str(s), "EU " + str(s), 1.0, 0) for s in range(38, 45)], (2, 4))]
        if kind == "s":
            return [(K_SIZE, SIZES[:4], (2, 4))]
        return [(K_COLOUR, COLOURS[:5], (1, 3))]
    return ax


def format_map(template, vals, lang, extra):
    m = dict(extra)
    for k, v in vals.items():
        m[k] = v[lang]
        m[k + "_x"] = v
    return clean(template.format(**m))


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------

START = dt.datetime(2025, 1, 6, 8, 0, 0)
END = dt.datetime(2026, 6, 30, 20, 0, 0)


def gen_products():
    products = []
    for fam in FAMILIES:
        seen = set()
        made = 0
        tries = 0
        slot_lists = {k: [norm_slot(v) for v in vs] for k, vs in fam["slots"].items()}
        unique = fam.get("unique_slot")
        unique_queue = []
        if unique:
            unique_queue = list(slot_lists[unique])
            rng.shuffle(unique_queue)
        while made < fam["n"] and tries < fam["n"] * 200:
            tries += 1
            merchant = MERCH[weighted(fam["merchants"])]
            lang = "en" if rng.random() < merchant["en_share"] else "id"
            vals = {k: rng.choice(v) for k, v in slot_lists.items()}
            if unique:
                if not unique_queue:
                    break
                vals[unique] = unique_queue[-1]
            if fam.get("brand_slot"):
                brand = vals[fam["brand_slot"]]["brand"]
            elif merchant["kind"] in SELLER_KINDS:
                brand = None  # C2C sellers mostly sell unbranded, homemade or pre-owned goods
            else:
                brand = rng.choice(fam["brands"])
            extra = {"merek": brand or "", "city": merchant["city"]}
            tmpl = fam.get("title_nb", fam["title"])[lang] if brand is None else fam["title"][lang]
            title = format_map(tmpl, vals, lang, extra)
            if title.lower() in seen:
                continue
            seen.add(title.lower())
            if unique:
                unique_queue.pop()
            sentences = fam["desc"][lang]
            k = rng.randint(min(3, len(sentences)), len(sentences))
            chosen = sorted(rng.sample(range(len(sentences)), k))
            parts = [sentences[i] for i in chosen]
            if rng.random() < 0.85:
                parts.append(rng.choice(CLOSING[lang]))
            description = " ".join(format_map(p, vals, lang, extra) for p in parts)
            attrs = {format_map(k2, vals, lang, extra): format_map(v2, vals, lang, extra)
                     for k2, v2 in fam["attrs"].get(lang, {}).items()}
            # price of the first option of every axis
            lo, hi = fam["price"]
            base = rng.uniform(lo, hi)
            for v in vals.values():
                base *= v["p"]
            if "item" in vals and "w" in vals["item"]:
                base *= rng.uniform(0.9, 1.15)
            weight_base = fam.get("weight", 0)
            if "item" in vals and "w" in vals["item"]:
                weight_base += vals["item"]["w"]
            # variants
            combos = [([], 1.0, 0)]
            for key, opts, lohi in axes_for(fam, vals):
                chosen_opts = pick_options(opts, lohi)
                combos = [(c + [(key, o)], f * o[2], w + o[3]) for c, f, w in combos for o in chosen_opts]
            if len(combos) > 4:
                combos = sorted(rng.sample(combos, 4), key=combos.index)
            en_merchant = merchant["en_share"] >= 0.5
            variants = []
            idr_by_factor = {}
            for opts, factor, grams in combos:
                options = {}
                for key, o in opts:
                    options[key[0] if lang == "id" else key[1]] = o[0] if lang == "id" else o[1]
                if factor not in idr_by_factor:  # the same price for every colour of one size
                    idr_by_factor[factor] = nice_idr(base * factor)
                idr = idr_by_factor[factor]
                prices = []
                compare = rng.random() < 0.25
                idr_price = {"amount": money(idr), "compare_at": None}
                if compare:
                    idr_price["compare_at"] = money(nice_idr(idr * rng.uniform(1.12, 1.5)))
                    if int(idr_price["compare_at"]["amount"]) <= idr:
                        idr_price["compare_at"] = money(idr + 1000)
                prices.append(idr_price)
                if idr >= 30000 and rng.random() < (0.5 if en_merchant else 0.1):
                    usd = usd_of(idr)
                    usd_price = {"amount": money(usd, "USD"), "compare_at": None}
                    if compare:
                        usd_price["compare_at"] = money(usd_of(int(idr_price["compare_at"]["amount"])), "USD")
                    prices.append(usd_price)
                r = rng.random()
                stock = "in_stock" if r < 0.85 else ("low" if r < 0.95 else "out")
                variants.append({"options": options, "prices": prices, "stock": stock,
                                 "weight_grams": max(20, grams + weight_base + rng.randint(0, 15))})
            # rating, dates, images
            if rng.random() < 0.07:
                rating = {"average": "0", "count": 0}
            else:
                count = int(rng.paretovariate(1.1) * 8) if rng.random() < 0.9 else rng.randint(500, 4800)
                count = max(1, min(count, 9800))
                avg = min(50, max(30, int(round(rng.gauss(46, 3)))))
                if count < 5:
                    avg = rng.choice([40, 45, 50, 35, 48])
                rating = {"average": "%d.%d" % (avg // 10, avg % 10), "count": count}
            created = START + dt.timedelta(seconds=rng.randint(0, int((dt.datetime(2025, 12, 31) - START).total_seconds())))
            updated = created + dt.timedelta(seconds=rng.randint(0, 400 * 86400))
            if updated > END:
                updated = END - dt.timedelta(seconds=rng.randint(0, 30 * 86400))
            if updated < created:
                updated = created
            products.append({
                "merchant": merchant, "fam": fam, "lang": lang,
                "product": {
                    "merchant_id": merchant["id"],
                    "category_id": fam["cat"],
                    "title": title,
                    "description": description,
                    "brand": brand,
                    "attributes": attrs,
                    "n_images": rng.randint(1, 3),
                    "rating": rating,
                    "created_at": ts(created),
                    "updated_at": ts(updated),
                },
                "variants": variants,
            })
            made += 1
        if made < fam["n"]:
            raise SystemExit("family %s: only %d of %d products" % (fam["code"], made, fam["n"]))
    return products


def build():
    out = []
    for m in MERCHANTS:
        out.append({"type": "merchant", "id": m["id"], "name": m["name"], "kind": m["kind"],
                    "city": m["city"], "contact": m["contact"], "policies": m["policies"]})
    for pos, (cid, name, subs) in enumerate(CATEGORY_TREE):
        out.append({"type": "category", "id": cid, "parent_id": None, "name": name, "position": pos})
    for cid, _name, subs in CATEGORY_TREE:
        for pos, (sid, sname) in enumerate(subs):
            out.append({"type": "category", "id": sid, "parent_id": cid, "name": sname, "position": pos})

    products = gen_products()
    rng.shuffle(products)
    for i, rec in enumerate(products, start=1):
        pid = "p-%04d" % i
        p = rec["product"]
        n_images = p.pop("n_images")
        entity = {"type": "product", "id": pid}
        entity.update(p)
        entity["image_urls"] = ["https://img.example.com/products/%s/%d.jpg" % (pid, k)
                                for k in range(1, n_images + 1)]
        # keep a stable, readable field order
        order = ["type", "id", "merchant_id", "category_id", "title", "description", "brand",
                 "attributes", "image_urls", "rating", "created_at", "updated_at"]
        out.append({k: entity[k] for k in order})
        for j, v in enumerate(rec["variants"], start=1):
            vid = "v-%04d-%d" % (i, j)
            sku = "%s-%s-%04d-%d" % (rec["merchant"]["sku"], rec["fam"]["code"], i, j)
            out.append({"type": "variant", "id": vid, "product_id": pid, "sku": sku,
                        "options": v["options"], "prices": v["prices"], "stock": v["stock"],
                        "weight_grams": v["weight_grams"]})

    valid_from = "2026-01-01T00:00:00Z"
    valid_until = "2030-12-31T23:59:59Z"

    def voucher(code, title, merchant_id, discount, min_spend, vf=valid_from, vu=valid_until):
        return {"type": "voucher", "code": code, "title": title, "merchant_id": merchant_id,
                "currency": "IDR", "discount": discount,
                "min_spend": money(min_spend) if min_spend is not None else None,
                "valid_from": vf, "valid_until": vu}

    out += [
        voucher("HEMAT10", "Hemat 10% hingga Rp50.000", None,
                {"type": "percent", "percent": "10", "cap": money(50000)}, 100000),
        voucher("WARUNG25K", "Potongan Rp25.000 untuk semua toko", None,
                {"type": "fixed", "amount": money(25000)}, 200000),
        voucher("BATIK15", "Diskon 15% Batik Pesona, maks. Rp150.000", "m-batik-pesona",
                {"type": "percent", "percent": "15", "cap": money(150000)}, 500000),
        voucher("KOPI20K", "Rp20,000 off freshly roasted coffee", "m-kopi-nusantara",
                {"type": "fixed", "amount": money(20000)}, 150000),
        voucher("GADGET5", "5% off phones and gadgets, up to Rp300,000", "m-gadget-hub",
                {"type": "percent", "percent": "5", "cap": money(300000)}, 1500000),
        voucher("BERKAH10K", "Potongan Rp10.000 belanja sembako", "m-berkah-jaya",
                {"type": "fixed", "amount": money(10000)}, 100000),
        voucher("GLOW12", "12% off Bali Glow skincare", "m-bali-glow",
                {"type": "percent", "percent": "12", "cap": None}, None),
        voucher("LEBARAN2025", "Promo Lebaran 20% (sudah berakhir)", None,
                {"type": "percent", "percent": "20", "cap": money(100000)}, 200000,
                vf="2025-03-01T00:00:00Z", vu="2025-04-30T23:59:59Z"),
    ]
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "demo_catalog.json")
    entities = build()
    lines = [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in entities]
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(lines) + "\n]\n")
    kinds = {}
    for e in entities:
        kinds[e["type"]] = kinds.get(e["type"], 0) + 1
    print("wrote %s: %s" % (path, ", ".join("%d %ss" % (n, k) for k, n in kinds.items())))


if __name__ == "__main__":
    main()
