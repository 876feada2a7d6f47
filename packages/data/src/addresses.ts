import type { Rng } from './rng.js';

// Vocabulary for synthetic Vietnamese address lines (names of people, places and provinces in common use).
const NAMES = [
  'Đinh Bộ Lĩnh',
  'Đặng Thị Nhu',
  'Hoàng Việt',
  'Lưu Hữu Phước',
  'Phạm Tu',
  'Lạc Trị',
  'Nguyễn Thái Bình',
  'Lê Lợi',
  'Trần Hưng Đạo',
  'Hai Bà Trưng',
  'Lý Thường Kiệt',
  'Nguyễn Huệ',
  'Điện Biên Phủ',
  'Cách Mạng Tháng Tám',
  'Võ Văn Tần',
  'Nam Kỳ Khởi Nghĩa',
  'Phan Đình Phùng',
  'Nguyễn Trãi',
  'Lê Duẩn',
  'Hùng Vương',
  'Quang Trung',
  'Bạch Đằng',
  'Hàng Bài',
  'Tôn Đức Thắng',
  'Nguyễn Văn Cừ',
  'Phạm Văn Đồng',
  'Xuân Thủy',
  'Cầu Giấy',
  'Kim Mã',
  'Đội Cấn',
  'Giải Phóng',
  'Trường Chinh',
  'Lạc Long Quân',
  'Âu Cơ',
  'Hoàng Quốc Việt',
  'Phạm Ngũ Lão',
  'Bùi Thị Xuân',
  'Nguyễn Đình Chiểu',
  'Lê Văn Sỹ',
  'Huỳnh Tấn Phát',
  'Nguyễn Hữu Thọ',
  'Tô Hiến Thành',
  'Ngô Quyền',
  'Yết Kiêu',
  'Chu Văn An',
  'Lý Tự Trọng',
  'Hưng Thái',
  'Thống Nhất',
  'Độc Lập',
  'Hòa Bình',
  'Sư Vạn Hạnh',
  'Ỷ Lan',
  'Mạc Đĩnh Chi',
  'Đoàn Thị Điểm',
  'Thích Quảng Đức',
];
const PLACES = [
  'Bình Thạnh',
  'Tân Bình',
  'Phú Nhuận',
  'Gò Vấp',
  'Thủ Đức',
  'Cầu Diễn',
  'Nam Từ Liêm',
  'Bắc Từ Liêm',
  'Đống Đa',
  'Ba Đình',
  'Hoàn Kiếm',
  'Hai Bà Trưng',
  'Hoàng Mai',
  'Long Biên',
  'Thanh Xuân',
  'Sơn Trà',
  'Hải Châu',
  'Ngũ Hành Sơn',
  'Diên Khánh',
  'Diên Thạnh',
  'Phước Mỹ',
  'Thọ Lộc',
  'Tân Phong',
  'Phú Khánh Thượng',
  'Bình Chánh',
  'Củ Chi',
  'Hóc Môn',
  'Nhà Bè',
  'Cần Giờ',
  'Dĩ An',
  'Thuận An',
  'Biên Hòa',
  'Long Thành',
  'Nhơn Trạch',
  'Bến Lức',
  'Đức Hòa',
  'Cái Răng',
  'Ninh Kiều',
  'Hưng Lợi',
  'An Khánh',
  'Xuân Khánh',
  'Tân Định',
  'Đa Kao',
  'Bến Nghé',
  'Phú Mỹ',
  'Yên Hòa',
  'Mai Dịch',
  'Nghĩa Đô',
  'Quan Hoa',
  'Dịch Vọng',
  'Ô Chợ Dừa',
  'Khương Trung',
  'Vĩnh Tuy',
  'Lĩnh Nam',
  'Phúc Lợi',
  'Thạch Bàn',
];
const PROVINCES = [
  'TP Hồ Chí Minh',
  'Hà Nội',
  'Đà Nẵng',
  'Hải Phòng',
  'Cần Thơ',
  'Khánh Hòa',
  'Bình Dương',
  'Đồng Nai',
  'Long An',
  'Bà Rịa - Vũng Tàu',
  'Quảng Ninh',
  'Thừa Thiên Huế',
  'Nghệ An',
  'Thanh Hóa',
  'Bắc Ninh',
  'Hưng Yên',
  'Lâm Đồng',
  'Đắk Lắk',
  'Gia Lai',
  'Bình Định',
  'Quảng Nam',
  'Quảng Ngãi',
  'Tiền Giang',
  'Bến Tre',
  'An Giang',
  'Kiên Giang',
  'Vĩnh Phúc',
  'Thái Nguyên',
  'Nam Định',
  'Ninh Bình',
  'Hà Tĩnh',
  'Phú Yên',
  'Tây Ninh',
  'Sóc Trăng',
  'Cà Mau',
];
const HAMLET = ['Thôn', 'Ấp', 'Xóm', 'Khu phố', 'Tổ dân phố', 'Bản'];

function houseNumber(rng: Rng): string {
  const n = rng.int(1, rng.chance(0.7) ? 199 : 999);
  switch (rng.int(0, 6)) {
    case 0:
      return `${n}${rng.pick(['A', 'B', 'C', 'D'])}`;
    case 1:
      return `${n}/${rng.int(1, 60)}`;
    case 2:
      return `Số ${n}`;
    case 3:
      return `Số ${n},`;
    case 4:
      return `${n}/${rng.int(1, 40)}/${rng.int(1, 20)}`;
    default:
      return String(n);
  }
}

function street(rng: Rng): string {
  const name = rng.pick(NAMES);
  const r = rng.next();
  if (r < 0.3) return `Đường ${name}`;
  if (r < 0.45) return `Phố ${name}`;
  if (r < 0.55) return `Ngõ ${rng.int(1, 300)} ${name}`;
  return name;
}

function ward(rng: Rng): string {
  const r = rng.next();
  if (r < 0.35) return `Phường ${rng.int(1, 28)}`;
  if (r < 0.7) return `Phường ${rng.pick(PLACES)}`;
  if (r < 0.92) return `Xã ${rng.pick(PLACES)}`;
  return `Thị trấn ${rng.pick(PLACES)}`;
}

function district(rng: Rng): string {
  const r = rng.next();
  if (r < 0.25) return `Quận ${rng.int(1, 12)}`;
  if (r < 0.6) return `Quận ${rng.pick(PLACES)}`;
  if (r < 0.88) return `Huyện ${rng.pick(PLACES)}`;
  if (r < 0.95) return `Thị xã ${rng.pick(PLACES)}`;
  return `TP ${rng.pick(PLACES)}`;
}

/**
 * A random Vietnamese address line, e.g. "27A Hoàng Việt, Phường 4, Quận Tân Bình, TP Hồ Chí Minh" or
 * "Thôn Phú Khánh Thượng, Xã Diên Thạnh, Huyện Diên Khánh, Khánh Hòa". Every character is in `Charset.vietnamese()`.
 */
export function randomAddress(rng: Rng): string {
  const parts: string[] = [];
  const r = rng.next();
  if (r < 0.75) {
    const h = houseNumber(rng);
    const s = street(rng);
    parts.push(h.endsWith(',') ? `${h} ${s}` : `${h} ${s}`);
  } else if (r < 0.9) {
    parts.push(`${rng.pick(HAMLET)} ${rng.chance(0.5) ? rng.pick(PLACES) : rng.int(1, 12)}`);
  } else {
    parts.push(street(rng));
    parts.push(`${rng.chance(0.5) ? 'cụm' : 'tổ'} ${rng.int(1, 20)}`);
  }
  const level = rng.next();
  if (level < 0.9) parts.push(ward(rng));
  if (level < 0.97) parts.push(district(rng));
  parts.push(rng.pick(PROVINCES));
  return parts.join(', ').replace(/,,/g, ',');
}
